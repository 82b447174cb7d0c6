// Package ssp is the typed client of the VMware/Broadcom Security Services
// Platform sensor and baremetal APIs (specs/ssp-sensors.yaml, SSP 5.2).
// Objects pass through as the vendor's raw JSON; typed structs cover only
// what tokenctl itself reads or sends.
package ssp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tokenctl/tokenctl/internal/client"
)

// Client calls one SSP.
type Client struct {
	c *client.Client
}

// New wraps an authenticated HTTP client.
func New(c *client.Client) *Client { return &Client{c: c} }

// HTTP is the underlying client (for `tokenctl api`).
func (s *Client) HTTP() *client.Client { return s.c }

// ListQuery holds the shared list parameters of SSP collections besides
// paging: sort_by, sort_ascending, display_name, and per-list filters.
type ListQuery struct {
	SortBy      string
	Ascending   *bool
	DisplayName string
	// Extra holds the list's own filters (token_status, health, ...).
	Extra url.Values
}

func (q ListQuery) values() url.Values {
	v := url.Values{}
	for k, vs := range q.Extra {
		v[k] = append([]string(nil), vs...)
	}
	if q.SortBy != "" {
		v.Set("sort_by", q.SortBy)
	}
	if q.Ascending != nil {
		v.Set("sort_ascending", strconv.FormatBool(*q.Ascending))
	}
	if q.DisplayName != "" {
		v.Set("display_name", q.DisplayName)
	}
	return v
}

// list pages through an SSP ListResult collection, passing each item of
// "results" to fn as raw JSON.
func (s *Client) list(ctx context.Context, op, path string, q ListQuery, p client.Pager, fn func(json.RawMessage) error) (client.PageResult, error) {
	return s.c.ListOffset(ctx, client.Call{Operation: op, Method: http.MethodGet, Path: path, Query: q.values()}, "results", p, fn)
}

func (s *Client) get(ctx context.Context, op, path string) (json.RawMessage, error) {
	resp, err := s.c.Do(ctx, client.Call{Operation: op, Method: http.MethodGet, Path: path})
	if err != nil {
		return nil, err
	}
	if !json.Valid(resp.Body) {
		return nil, badResponse(op)
	}
	return resp.Body, nil
}

func badResponse(op string) error {
	return &client.APIError{Operation: op, Status: 200, Code: 1, Message: "unexpected response: not JSON"}
}

// pathID escapes an id for a path segment.
func pathID(id string) string { return url.PathEscape(id) }
