package profile

import (
	"context"
	"fmt"
	"strings"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/sdwan"
)

// checkSDWAN makes the profile call with the profile's credentials (for the
// unified API: a new or cached OAuth access token first) and reports the
// API generation and version, the identity (email), the tenant and operator
// ids and where they come from, and the OAuth token endpoint.
func checkSDWAN(ctx context.Context, c *client.Client, p *config.Resolved) (*checkResult, error) {
	sc, _, err := cmdutil.NewSDWAN(c, p, cmdutil.SDWANIDs{})
	if err != nil {
		return nil, err
	}
	api := sc.API()
	_, prof, err := sc.Profile(ctx)
	if err != nil {
		return nil, err
	}
	res := &checkResult{versions: map[string]string{"sdwan": fmt.Sprintf("%s (%s)", api, api.ProfilePath())}}
	if len(prof.Roles) > 0 {
		names := make([]string, len(prof.Roles))
		for i, r := range prof.Roles {
			names[i] = r.Name
		}
		res.permissions = "roles " + strings.Join(names, ", ")
	}
	switch {
	case prof.Email != "":
		res.identity = fmt.Sprintf("%s (operator %s)", prof.Email, prof.ID)
	case prof.ID != "":
		res.identity = "operator " + prof.ID
	}
	if o, ok := c.Auth().(*sdwan.OAuth); ok {
		res.identity += fmt.Sprintf(" via OAuth client %s, tsg_id %s", p.ClientID, p.TSGID)
		res.notes = append(res.notes, "OAuth token endpoint "+o.AuthURL())
	} else {
		res.identity += " via static X-Auth-Token"
	}
	ids, source, err := sc.Identity(ctx)
	if err != nil {
		return nil, err
	}
	if api.Generation == sdwan.Legacy {
		res.notes = append(res.notes, fmt.Sprintf("tenant_id %s (from the %s)", ids.TenantID, source))
	} else if prof.TenantID != "" {
		res.notes = append(res.notes, fmt.Sprintf("tenant_id %s (the unified API takes it from the token's TSG scope)", prof.TenantID))
	}
	res.notes = append(res.notes, fmt.Sprintf("operator_id %s (from the %s)", ids.OperatorID, source))
	if prof.ID != "" && ids.OperatorID != prof.ID {
		res.notes = append(res.notes, fmt.Sprintf("warning: the profile call reports operator %s, but %s is configured", prof.ID, ids.OperatorID))
	}
	if api.Generation == sdwan.Legacy && prof.TenantID != "" && ids.TenantID != prof.TenantID {
		res.notes = append(res.notes, fmt.Sprintf("warning: the profile call reports tenant %s, but %s is configured", prof.TenantID, ids.TenantID))
	}
	return res, nil
}
