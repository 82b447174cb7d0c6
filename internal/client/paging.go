package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"strconv"

	"github.com/tokenctl/tokenctl/internal/exit"
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
// under key, as raw JSON (a slice of body), without decoding the items.
// Other fields are skipped except total_result_count.
func EachItem(body []byte, key string, fn func(json.RawMessage) error) (Envelope, error) {
	env := Envelope{Total: -1}
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return env, badJSON(syntaxError(body, i, "expected an object"))
	}
	i++
	for first := true; ; first = false {
		i = skipSpace(body, i)
		if i < len(body) && body[i] == '}' {
			return env, checkTrailing(body, i+1)
		}
		if !first {
			if i >= len(body) || body[i] != ',' {
				return env, badJSON(syntaxError(body, i, "expected , or }"))
			}
			i = skipSpace(body, i+1)
		}
		if i >= len(body) || body[i] != '"' {
			return env, badJSON(syntaxError(body, i, "expected a field name"))
		}
		name, j, err := scanKey(body, i)
		if err != nil {
			return env, badJSON(err)
		}
		i = skipSpace(body, j)
		if i >= len(body) || body[i] != ':' {
			return env, badJSON(syntaxError(body, i, "expected :"))
		}
		i = skipSpace(body, i+1)
		switch name {
		case key:
			if i, err = eachElement(body, i, key, &env, fn); err != nil {
				return env, err
			}
		case "total_result_count":
			j, err := scanValue(body, i)
			if err != nil {
				return env, badJSON(err)
			}
			if v, err := strconv.ParseInt(string(body[i:j]), 10, 64); err == nil {
				env.Total = v
			}
			i = j
		default:
			if i, err = scanValue(body, i); err != nil {
				return env, badJSON(err)
			}
		}
	}
}

// eachElement passes the elements of the array at body[i] to fn and returns
// the index after the array; null counts as empty.
func eachElement(body []byte, i int, key string, env *Envelope, fn func(json.RawMessage) error) (int, error) {
	if bytes.HasPrefix(body[i:], []byte("null")) {
		return i + 4, nil
	}
	if i >= len(body) || body[i] != '[' {
		return i, badJSON(fmt.Errorf("%q is not an array", key))
	}
	i = skipSpace(body, i+1)
	if i < len(body) && body[i] == ']' {
		return i + 1, nil
	}
	for {
		j, err := scanValue(body, i)
		if err != nil {
			return j, badJSON(err)
		}
		env.Count++
		if err := fn(json.RawMessage(body[i:j])); err != nil {
			return j, err
		}
		i = skipSpace(body, j)
		if i >= len(body) {
			return i, badJSON(errTruncated)
		}
		switch body[i] {
		case ',':
			i = skipSpace(body, i+1)
		case ']':
			return i + 1, nil
		default:
			return i, badJSON(syntaxError(body, i, "expected , or ]"))
		}
	}
}

// EachArrayItem calls fn for each element of a top-level JSON array (the
// agent-config list) and returns how many there were. The array must be
// complete: a body cut short (no closing bracket) or followed by anything
// but white space is an error, even after fn saw every element.
func EachArrayItem(body []byte, fn func(json.RawMessage) error) (int, error) {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '[' {
		return 0, badJSON(syntaxError(body, i, "expected an array"))
	}
	var env Envelope
	end, err := eachElement(body, i, "the list", &env, fn)
	if err != nil {
		return env.Count, err
	}
	return env.Count, checkTrailing(body, end)
}

// checkTrailing accepts only white space after the JSON value that ended
// at body[i].
func checkTrailing(body []byte, i int) error {
	if j := skipSpace(body, i); j < len(body) {
		return badJSON(syntaxError(body, j, "unexpected data after the JSON value"))
	}
	return nil
}

func badJSON(err error) error {
	return &BodyError{Err: err}
}

// BodyError is a 2xx response whose body is not the documented JSON (cut
// short, malformed, trailing data): exit 1, naming the operation once
// WithOperation has set it.
type BodyError struct {
	Operation string
	Err       error
}

func (e *BodyError) Error() string {
	msg := "unexpected response (not the documented JSON): " + e.Err.Error()
	if e.Operation != "" {
		return e.Operation + ": " + msg
	}
	return msg
}

func (e *BodyError) Unwrap() error { return e.Err }

// WithOperation names the operation in a *BodyError within err; other
// errors (a callback's own, ErrStop) are returned as they are.
func WithOperation(op string, err error) error {
	var be *BodyError
	if errors.As(err, &be) && be.Operation == "" {
		be.Operation = op
	}
	return err
}

// Pager controls an offset-paged listing (SSP's offset and page_size).
type Pager struct {
	// PageSize is sent as page_size; 0 leaves the server's default.
	PageSize int
	// Offset is where to start.
	Offset int
	// Limit stops after this many items (0: every item), following pages
	// only as needed.
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
// key to fn; an item is valid only until fn returns. It follows every page
// (a script never acts on part of a fleet by accident) and stops when a page
// is short, when total_result_count is reached, or at Limit. It never trusts
// the echoed offset (the vendor's own examples show -1), and a full page
// that repeats the previous one is an error, not an endless loop: a server
// that ignores offset would otherwise send its first page forever.
//
// While fn works through a page, the next page is already being fetched,
// so a long listing takes about as long as the slower of the server and the
// printing, not their sum; at most two pages are held at once.
func (c *Client) ListOffset(ctx context.Context, call Call, key string, p Pager, fn func(json.RawMessage) error) (PageResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // abandons a prefetched page nobody will read
	res := PageResult{Total: -1}
	offset := p.Offset
	firstCount := 0
	var prevSum, prevHead uint64
	// Two body buffers serve every page: the one being printed and the one
	// being fetched. Items passed to fn alias them, so fn must not keep
	// them (every ListWriter copies or converts what it is given).
	bufs := [2]*bytes.Buffer{{}, {}}
	next, cancelNext := c.fetchPage(ctx, call, p.PageSize, offset, bufs[0])
	for page := 0; ; page++ {
		got := <-next
		cancelNext()
		if got.err != nil {
			return res, got.err
		}
		body := got.resp.Body
		// Once the total and the page size are known, a full page is
		// expected: the next one is asked for at once, while this one is
		// counted and printed (a page that turns out short cancels it). A
		// page that starts with the previous page's first item is not
		// trusted that far: it may repeat it (see below).
		prefetched := false
		headSum := firstItemSum(body, key)
		if page > 0 && res.Total >= 0 && int64(offset+firstCount) < res.Total &&
			(p.Limit == 0 || res.Fetched+firstCount < p.Limit) && headSum != prevHead {
			next, cancelNext = c.fetchPage(ctx, call, p.PageSize, offset+firstCount, bufs[(page+1)%2])
			prefetched = true
		}
		prevHead = headSum
		// A first, cheap pass counts the items, to decide whether to
		// fetch the next page before printing this one, and keeps its first
		// and last items, to tell a page that repeats the previous one.
		var first, lastItem json.RawMessage
		env, err := EachItem(body, key, func(raw json.RawMessage) error {
			if first == nil {
				first = raw
			}
			lastItem = raw
			return nil
		})
		if err != nil {
			return res, WithOperation(call.Operation, err)
		}
		if env.Total >= 0 && res.Total < 0 {
			res.Total = env.Total
		}
		if page == 0 {
			firstCount = env.Count
		}
		pageSize := p.PageSize
		if pageSize == 0 {
			pageSize = firstCount
		}
		sum := fnv.New64a()
		sum.Write(first)
		sum.Write([]byte{0})
		sum.Write(lastItem)
		if page > 0 && env.Count > 0 && env.Count >= pageSize && sum.Sum64() == prevSum {
			return res, exit.Errorf(exit.Error, "%s: the page at offset %d repeats the previous page (%d items): the server seems to ignore offset, so the list cannot be read to its end; stopped rather than loop",
				call.Operation, offset, env.Count)
		}
		prevSum = sum.Sum64()
		nextOffset := offset + env.Count
		last := env.Count == 0 || env.Count < pageSize || (res.Total >= 0 && int64(nextOffset) >= res.Total)
		wantMore := p.Limit == 0 || res.Fetched+env.Count < p.Limit
		switch {
		case prefetched && (last || !wantMore || env.Count != firstCount):
			cancelNext() // the guess was wrong: a short page
			// The abandoned fetch may still be writing into its buffer.
			bufs[(page+1)%2] = &bytes.Buffer{}
			if !last && wantMore {
				next, cancelNext = c.fetchPage(ctx, call, p.PageSize, nextOffset, bufs[(page+1)%2])
			}
		case !prefetched && !last && wantMore:
			next, cancelNext = c.fetchPage(ctx, call, p.PageSize, nextOffset, bufs[(page+1)%2])
		}
		stopped := false
		if _, err := EachItem(body, key, func(raw json.RawMessage) error {
			if p.Limit > 0 && res.Fetched >= p.Limit {
				stopped = true
				return ErrStop
			}
			res.Fetched++
			return fn(raw)
		}); stopped {
			res.More = true
			return res, nil
		} else if err != nil {
			return res, err
		}
		offset = nextOffset
		if p.OnPage != nil {
			p.OnPage(res.Fetched, res.Total)
		}
		if last {
			return res, nil
		}
		if !wantMore {
			res.More = true
			return res, nil
		}
	}
}

// firstItemSum hashes the first item of a page (0 when it has none),
// reading no further into the page than that item.
func firstItemSum(body []byte, key string) uint64 {
	var sum uint64
	_, _ = EachItem(body, key, func(raw json.RawMessage) error {
		h := fnv.New64a()
		h.Write(raw)
		sum = h.Sum64()
		return ErrStop
	})
	return sum
}

type fetchedPage struct {
	resp *Response
	err  error
}

// fetchPage sends the call for the page at offset in the background; the
// cancel function abandons it.
func (c *Client) fetchPage(ctx context.Context, call Call, pageSize, offset int, into *bytes.Buffer) (<-chan fetchedPage, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	if call.PageBody != nil {
		call.Body = call.PageBody(offset, pageSize)
	} else {
		q := url.Values{}
		for k, vs := range call.Query {
			q[k] = append([]string(nil), vs...)
		}
		if pageSize > 0 {
			q.Set("page_size", strconv.Itoa(pageSize))
		}
		if offset > 0 {
			q.Set("offset", strconv.Itoa(offset))
		}
		call.Query = q
	}
	call.into = into
	ch := make(chan fetchedPage, 1)
	go func() {
		resp, err := c.Do(ctx, call)
		ch <- fetchedPage{resp, err}
	}()
	return ch, cancel
}
