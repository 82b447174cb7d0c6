package authtoken

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/prompt"
	"github.com/tokenctl/tokenctl/internal/sdwan"
)

// askCreate asks, in one form, for what a create from flags alone still
// lacks: the roles (none given with --role) and the expiry (neither
// --expires nor --expires-at), checked inline with the request's own
// Validate. It returns the roles and expiry chosen.
func askCreate(f *cmdutil.Factory, opts *CreateOptions, api sdwan.API, now time.Time, askRoles bool) (roles []string, expiry *int64, err error) {
	var fields []*prompt.Field
	if askRoles {
		var options []prompt.Option
		for _, r := range sdwan.RoleNames() {
			options = append(options, prompt.Option{Value: r})
		}
		fields = append(fields, &prompt.Field{
			Key: "--role", Kind: prompt.KindMultiSelect, Title: "Roles",
			Description: fmt.Sprintf("space selects; at most %d", sdwan.MaxRoles),
			Options:     options, Values: &roles, Limit: sdwan.MaxRoles,
			ValidateMulti: func(v []string) error {
				req := &sdwan.AuthTokenRequest{}
				for _, r := range v {
					req.Roles = append(req.Roles, sdwan.AuthRole{Name: r})
				}
				for _, p := range req.Validate("", api, now) {
					if p.Field == "roles" || strings.HasPrefix(p.Field, "roles[") {
						return errors.New(p.Rule)
					}
				}
				return nil
			},
		})
	}
	lifetime := ""
	if opts.Expires == "" && opts.ExpiresAt == "" {
		lifetime = "24h"
		fields = append(fields, &prompt.Field{
			Key: "--expires", Kind: prompt.KindInput, Title: "Expires in",
			Description: "a duration from now: 24h, 90m, 30d, 1d12h",
			Value:       &lifetime,
			Validate: cmdutil.RuleOf("expires_utc_ms", func(v string) []exit.Problem {
				d, err := sdwan.ParseLifetime(v)
				if err != nil {
					return []exit.Problem{{Field: "expires_utc_ms", Rule: err.Error()}}
				}
				ms := now.Add(d).UnixMilli()
				return (&sdwan.AuthTokenRequest{ExpiresUTCMs: &ms}).Validate("", api, now)
			}),
		})
	}
	if err := f.Ask(&prompt.Form{Fields: fields}, "created"); err != nil {
		return nil, nil, err
	}
	if lifetime != "" {
		d, err := sdwan.ParseLifetime(lifetime)
		if err != nil {
			return nil, nil, exit.Usagef("--expires: %v", err)
		}
		ms := now.Add(d).UnixMilli()
		expiry = &ms
	}
	return roles, expiry, nil
}
