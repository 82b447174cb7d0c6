package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// ErrStop, returned by an item callback, ends a listing without fetching
// more pages.
var ErrStop = errors.New("stop listing")

// Envelope is what EachItem learned about a page besides its items.
type Envelope struct {
	// Count is the number of items in the page.
	Count int
	// Total is total_result_count (-1 when absent: SSP sets it on the
	// first page only).
	Total int64
}

// EachItem walks a JSON object and calls fn with each element of the array
// under key, as raw JSON, without decoding the items. Other fields are
// skipped except total_result_count. Memory holds one item at a time.
func EachItem(body []byte, key string, fn func(json.RawMessage) error) (Envelope, error) {
	env := Envelope{Total: -1}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := expectDelim(dec, '{'); err != nil {
		return env, err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return env, badJSON(err)
		}
		name, _ := tok.(string)
		switch name {
		case key:
			t, err := dec.Token()
			if err != nil {
				return env, badJSON(err)
			}
			if t == nil { // "results": null
				continue
			}
			if d, ok := t.(json.Delim); !ok || d != '[' {
				return env, badJSON(fmt.Errorf("%q is not an array", key))
			}
			for dec.More() {
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return env, badJSON(err)
				}
				env.Count++
				if err := fn(raw); err != nil {
					return env, err
				}
			}
			if _, err := dec.Token(); err != nil {
				return env, badJSON(err)
			}
		case "total_result_count":
			var n json.Number
			if err := dec.Decode(&n); err != nil {
				return env, badJSON(err)
			}
			if v, err := n.Int64(); err == nil {
				env.Total = v
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return env, badJSON(err)
			}
		}
	}
	return env, nil
}

// EachArrayItem calls fn for each element of a top-level JSON array (the
// agent-config list).
func EachArrayItem(body []byte, fn func(json.RawMessage) error) (int, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := expectDelim(dec, '['); err != nil {
		return 0, err
	}
	n := 0
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return n, badJSON(err)
		}
		n++
		if err := fn(raw); err != nil {
			return n, err
		}
	}
	return n, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return badJSON(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return badJSON(fmt.Errorf("expected %q, got %v", want, tok))
	}
	return nil
}

func badJSON(err error) error {
	return fmt.Errorf("unexpected response (not the documented JSON): %w", err)
}

// Pager controls an offset-paged listing (SSP's offset and page_size).
type Pager struct {
	// PageSize is sent as page_size; 0 leaves the server's default.
	PageSize int
	// Offset is where to start.
	Offset int
	// All follows pages to the end.
	All bool
	// Limit stops after this many items (0: no limit), following pages as
	// needed.
	Limit int
	// OnPage is told the progress after each page (for a progress line).
	OnPage func(fetched int, total int64)
}

// PageResult says how a listing ended.
type PageResult struct {
	Fetched int
	// Total is the server's total_result_count, -1 if never sent.
	Total int64
	// More is true when items remain that were not fetched.
	More bool
}

// ListOffset fetches pages of call, passing each item of the array under
// key to fn. It stops when a page is short, when total_result_count is
// reached, at Limit, or after one page unless All or Limit says more. It
// never trusts the echoed offset (the vendor's own examples show -1).
func (c *Client) ListOffset(ctx context.Context, call Call, key string, p Pager, fn func(json.RawMessage) error) (PageResult, error) {
	res := PageResult{Total: -1}
	offset := p.Offset
	firstCount := 0
	for page := 0; ; page++ {
		q := url.Values{}
		for k, vs := range call.Query {
			q[k] = append([]string(nil), vs...)
		}
		if p.PageSize > 0 {
			q.Set("page_size", strconv.Itoa(p.PageSize))
		}
		if offset > 0 {
			q.Set("offset", strconv.Itoa(offset))
		}
		pc := call
		pc.Query = q
		resp, err := c.Do(ctx, pc)
		if err != nil {
			return res, err
		}
		stopped := false
		env, err := EachItem(resp.Body, key, func(raw json.RawMessage) error {
			if p.Limit > 0 && res.Fetched >= p.Limit {
				stopped = true
				return ErrStop
			}
			res.Fetched++
			return fn(raw)
		})
		if stopped {
			res.More = true
			return res, nil
		}
		if err != nil {
			return res, err
		}
		if env.Total >= 0 && res.Total < 0 {
			res.Total = env.Total
		}
		offset += env.Count
		if p.OnPage != nil {
			p.OnPage(res.Fetched, res.Total)
		}
		if page == 0 {
			firstCount = env.Count
		}
		pageSize := p.PageSize
		if pageSize == 0 {
			pageSize = firstCount
		}
		last := env.Count == 0 || env.Count < pageSize || (res.Total >= 0 && int64(offset) >= res.Total)
		if last {
			return res, nil
		}
		wantMore := p.All || (p.Limit > 0 && res.Fetched < p.Limit)
		if !wantMore {
			res.More = true
			return res, nil
		}
		if p.Limit > 0 && res.Fetched >= p.Limit {
			res.More = true
			return res, nil
		}
	}
}
