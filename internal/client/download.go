package client

import (
	"context"
	"fmt"
	"io"
)

// Download sends a GET-like call and copies a 2xx body to w as it arrives,
// never holding it whole in memory (installer bundles are hundreds of
// megabytes). progress, when set, is told the bytes written so far and the
// Content-Length (-1 when the server sent none). The response's Body is nil;
// error answers are decoded as for Do. A body that breaks off is a
// *NetworkError: what reached w is incomplete and is the caller's to discard.
func (c *Client) Download(ctx context.Context, call Call, w io.Writer, progress func(written, total int64)) (*Response, int64, error) {
	call.stream = true
	resp, err := c.Do(ctx, call)
	if err != nil {
		return nil, 0, err
	}
	body := resp.raw.Body
	defer body.Close()
	total := resp.raw.ContentLength
	pw := &progressWriter{w: w, total: total, progress: progress}
	n, err := io.Copy(pw, body)
	if pw.err != nil {
		return nil, n, fmt.Errorf("%s: writing the download: %w", call.Operation, pw.err)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, n, c.networkError(ctx, call, ctx.Err())
		}
		return nil, n, c.networkError(ctx, call, fmt.Errorf("download broke off after %d bytes: %w", n, err))
	}
	if total >= 0 && n != total {
		return nil, n, c.networkError(ctx, call, fmt.Errorf("download ended after %d of %d bytes", n, total))
	}
	resp.raw = nil
	return resp, n, nil
}

type progressWriter struct {
	w        io.Writer
	written  int64
	total    int64
	progress func(written, total int64)
	err      error
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.err = err
	p.written += int64(n)
	if p.progress != nil {
		p.progress(p.written, p.total)
	}
	return n, err
}
