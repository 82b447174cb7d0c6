package client

import (
	"net/http"

	"github.com/go-resty/resty/v2"
)

func restyResponse(r *http.Response) *resty.Response {
	return &resty.Response{RawResponse: r, Request: &resty.Request{Attempt: 1}}
}
