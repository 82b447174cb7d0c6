// Package agent emulates the token API of the "Agent APIs for Bamboo" plugin
// for Atlassian Bamboo (see ../../../../shared/api/agent-config.md), and the
// agent state calls that consume its tokens.
//
// Routes from plugin 1.5 on (the default):
//
//	GET    /rest/agent-config/1.0/tokens[/]        200 [Token...]                    admin
//	POST   /rest/agent-config/1.0/tokens[/]        {name, read, change} -> 200 Token admin
//	PUT    /rest/agent-config/1.0/tokens/{uuid}    {uuid?, name, read, change} -> 200 Token; 400, 404
//	DELETE /rest/agent-config/1.0/tokens/{uuid}    405: the plugin has no delete
//	GET    /rest/agents/1.0/{agentId}/state?uuid=          200 Agent              token with read
//	POST   /rest/agents/1.0/{agentId}/state/enable?uuid=   200 Agent              token with read and change
//	POST   /rest/agents/1.0/{agentId}/state/disable?uuid=  200 Agent              token with read and change
//
// With sim.Options.AgentLegacy only the pre-1.5 paths exist:
// /rest/agent/1.0/tokens[/] and /rest/agent/1.0/tokens/{uuid} for the same
// token calls, GET /rest/agent/1.0/{agentId}?uuid= and POST
// /rest/agent/1.0/{agentId}/{enable|disable}?uuid= for the agent. The paths
// of the other generation, and any other path under /rest/, answer 404 with
// Jersey's {"message":"null for uri: ...","status-code":404}.
//
// The token uuid is both the token's id and the agents' secret: nothing here
// logs it, and no error body repeats it.
//
// FOUND (the vendor's pages and a live 2.0 server's REST browser): the paths,
// the token object, GET answering an array, POST and PUT answering 200 with
// the token, HTTP Basic with a Bamboo administrator. INFERRED, because only
// the plugin's source or a live server would tell, and each is marked where
// it is made:
//   - INFERRED: a valid user who is not an administrator gets 403 on every
//     token route (unknown credentials 401, as Atlassian REST answers).
//   - INFERRED: validation answers: 400 for a body that is not a JSON object,
//     an unknown field, a missing or blank name, a non-boolean read or change,
//     a body uuid unlike the path's; 415 for a non-JSON Content-Type; 404
//     for a PUT to an unknown uuid; the messages are the sandbox's own.
//   - INFERRED: DELETE answers 405 (no delete call is documented).
//   - INFERRED: the consumer calls answer 401 for a missing or unknown
//     token and 403 for one without the needed permission.
//   - INFERRED: X-Atlassian-Token is not required (Atlassian's XSRF guard
//     exempts JSON bodies); tokenctl sends it on writes anyway, as the
//     plugin author's scripts do.
package agent

import (
	"encoding/json"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// Token is the plugin's token object.
type Token struct {
	// UUID is "the key that requests to Agent State Operations must pass".
	UUID string `json:"uuid"`
	// Name is informational only.
	Name string `json:"name"`
	// Read: can the token be used to read agent state.
	Read bool `json:"read"`
	// Change: can the token be used to alter agent state (enable/disable).
	Change bool `json:"change"`
}

// Agent is the state an agent call returns.
type Agent struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
	Busy    bool   `json:"busy"`
}

// defaultAgent is the one agent of the sandbox's Bamboo, the one in the
// vendor's example response. One is enough to prove a token works.
func defaultAgent() Agent {
	return Agent{ID: 131073, Name: "Default Agent", Enabled: true}
}

// restError is the Atlassian REST error body.
type restError struct {
	Message    string `json:"message"`
	StatusCode int    `json:"status-code"`
}

// Vendor is the agent-config emulator.
type Vendor struct {
	env *sim.Env
	// tokens keeps creation order, the order the list returns. Guarded by
	// the Env lock, like agents.
	tokens []Token
	agents map[int64]*Agent
}

// New returns the agent-config emulator.
func New(env *sim.Env) *Vendor {
	a := defaultAgent()
	return &Vendor{env: env, agents: map[int64]*Agent{a.ID: &a}}
}

// Name is the vendor's key in the state file.
func (v *Vendor) Name() string { return "agent" }

// Register adds the routes of the generation the Env's options select, and a
// catch-all 404 for the rest of /rest/.
func (v *Vendor) Register(mux *http.ServeMux) {
	tokens := "/rest/agent-config/1.0/tokens"
	if v.env.Options().AgentLegacy {
		tokens = "/rest/agent/1.0/tokens"
	}
	for _, p := range []string{tokens, tokens + "/{$}"} {
		mux.HandleFunc("GET "+p, v.admin(v.listTokens))
		mux.HandleFunc("POST "+p, v.admin(v.createToken))
	}
	mux.HandleFunc("PUT "+tokens+"/{uuid}", v.admin(v.updateToken))
	mux.HandleFunc("DELETE "+tokens+"/{uuid}", noDelete)

	if v.env.Options().AgentLegacy {
		mux.HandleFunc("GET /rest/agent/1.0/{agentId}", v.consumer(needRead, v.agentState))
		mux.HandleFunc("POST /rest/agent/1.0/{agentId}/enable", v.consumer(needChange, v.setEnabled(true)))
		mux.HandleFunc("POST /rest/agent/1.0/{agentId}/disable", v.consumer(needChange, v.setEnabled(false)))
	} else {
		mux.HandleFunc("GET /rest/agents/1.0/{agentId}/state", v.consumer(needRead, v.agentState))
		mux.HandleFunc("POST /rest/agents/1.0/{agentId}/state/enable", v.consumer(needChange, v.setEnabled(true)))
		mux.HandleFunc("POST /rest/agents/1.0/{agentId}/state/disable", v.consumer(needChange, v.setEnabled(false)))
	}
	mux.HandleFunc("/rest/", notFoundURI)
}

// reply is computed under the Env lock and written after it is released.
type reply struct {
	status int
	body   any
}

func (r reply) write(w http.ResponseWriter) { sim.WriteJSON(w, r.status, r.body) }

func fail(status int, msg string) reply {
	return reply{status: status, body: restError{Message: msg, StatusCode: status}}
}

// notFoundURI is Jersey's answer to a path no resource serves. The query
// string is left out of the URI because the agent calls carry the secret
// uuid there. Like Jersey, it is answered before any authentication.
func notFoundURI(w http.ResponseWriter, r *http.Request) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	fail(http.StatusNotFound, "null for uri: "+scheme+"://"+r.Host+r.URL.EscapedPath()).write(w)
}

// noDelete answers DELETE on a token (INFERRED): the plugin documents no delete, so the
// resource exists but the method does not. Jersey matches methods before the
// authentication filter runs, so no credentials are checked.
func noDelete(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Allow", "PUT")
	fail(http.StatusMethodNotAllowed, "Method Not Allowed").write(w)
}

// admin wraps a token route: "All operations on this page require an
// Authenticated Administrator". INFERRED: no or bad HTTP Basic credentials are 401 with
// Atlassian REST's message; a valid user who is not a Bamboo administrator
// (the read-only auditor) is 403 on every token route, reads included; the
// vendor does not say whether 401 or 403, and 403 separates "who are you"
// from "not allowed".
func (v *Vendor) admin(h func(r *http.Request, body []byte) reply) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := sim.ReadBody(r)
		if err != nil {
			fail(http.StatusBadRequest, "The request body could not be read.").write(w)
			return
		}
		v.env.Lock()
		u, ok := v.env.BasicAuth(r)
		var out reply
		switch {
		case !ok:
			out = fail(http.StatusUnauthorized, "Client must be authenticated to access this resource.")
		case u.ReadOnly:
			out = fail(http.StatusForbidden, "Client must be authenticated as a Bamboo administrator to access this resource.")
		default:
			out = h(r, body)
		}
		v.env.Unlock()
		out.write(w)
	}
}

func (v *Vendor) listTokens(*http.Request, []byte) reply {
	list := append([]Token{}, v.tokens...)
	return reply{status: http.StatusOK, body: list}
}

// createToken: the response "mirrors request but includes the UUID". A uuid
// the client sends is ignored; the plugin assigns one.
func (v *Vendor) createToken(r *http.Request, body []byte) reply {
	in, bad := decodeToken(r, body)
	if bad != nil {
		return *bad
	}
	t := Token{UUID: sim.NewUUID(), Name: in.name, Read: in.read, Change: in.change}
	v.tokens = append(v.tokens, t)
	v.env.Changed()
	return reply{status: http.StatusOK, body: t}
}

// updateToken replaces name, read and change of the token the path names:
// the request is the full object, so an absent read or change means false. A
// uuid in the body must equal the path's (400 otherwise); an unknown uuid is
// 404. The response mirrors the stored object.
func (v *Vendor) updateToken(r *http.Request, body []byte) reply {
	in, bad := decodeToken(r, body)
	if bad != nil {
		return *bad
	}
	id := r.PathValue("uuid")
	if in.hasUUID && in.uuid != id {
		return fail(http.StatusBadRequest, "The uuid in the body does not match the uuid in the path.")
	}
	for i := range v.tokens {
		if v.tokens[i].UUID == id {
			v.tokens[i].Name, v.tokens[i].Read, v.tokens[i].Change = in.name, in.read, in.change
			v.env.Changed()
			return reply{status: http.StatusOK, body: v.tokens[i]}
		}
	}
	return fail(http.StatusNotFound, "No token has that uuid.")
}

type tokenInput struct {
	name         string
	read, change bool
	uuid         string
	hasUUID      bool
}

// decodeToken validates a token body (INFERRED answers, see the package
// comment): a JSON object with only the fields
// uuid, name, read and change (an unknown field is 400, as Jackson does by
// default); name a non-blank string; read and change booleans, absent or null
// meaning false; uuid, when present and not null, a string. A Content-Type
// other than JSON is 415 (JAX-RS @Consumes); a missing one is accepted.
func decodeToken(r *http.Request, body []byte) (tokenInput, *reply) {
	bad := func(msg string) (tokenInput, *reply) {
		out := fail(http.StatusBadRequest, msg)
		return tokenInput{}, &out
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			out := fail(http.StatusUnsupportedMediaType, "Unsupported Media Type: send application/json.")
			return tokenInput{}, &out
		}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return bad("The request body must be a JSON object {\"name\": string, \"read\": boolean, \"change\": boolean}.")
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch k {
		case "uuid", "name", "read", "change":
		default:
			return bad("Unrecognized field \"" + k + "\"; a token has uuid, name, read and change.")
		}
	}
	var in tokenInput
	raw, ok := fields["name"]
	if !ok || string(raw) == "null" {
		return bad("Field \"name\" is required.")
	}
	if err := json.Unmarshal(raw, &in.name); err != nil {
		return bad("Field \"name\" must be a string.")
	}
	if strings.TrimSpace(in.name) == "" {
		return bad("Field \"name\" must not be empty.")
	}
	for _, f := range []struct {
		key string
		dst *bool
	}{{"read", &in.read}, {"change", &in.change}} {
		raw, ok := fields[f.key]
		if !ok || string(raw) == "null" {
			continue
		}
		if err := json.Unmarshal(raw, f.dst); err != nil {
			return bad("Field \"" + f.key + "\" must be a boolean.")
		}
	}
	if raw, ok := fields["uuid"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &in.uuid); err != nil {
			return bad("Field \"uuid\" must be a string.")
		}
		in.hasUUID = true
	}
	return in, nil
}

// permission a consumer route needs from its token.
type permission int

const (
	needRead permission = iota
	// needChange also needs read: "A token must have read access to be any
	// useful and must have change access to use any state changing API
	// calls."
	needChange
)

// consumer wraps an agent call authorised by ?uuid=<token>. A missing or
// unknown uuid is 401 (no valid credential was presented); a token without
// the permission the call needs is 403. INFERRED: the vendor documents
// neither.
// Tokens are checked before the agent id, so that callers without a token
// learn nothing about agents.
func (v *Vendor) consumer(need permission, h func(a *Agent) reply) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("uuid")
		v.env.Lock()
		out := v.consume(id, need, r.PathValue("agentId"), h)
		v.env.Unlock()
		out.write(w)
	}
}

func (v *Vendor) consume(id string, need permission, agentID string, h func(a *Agent) reply) reply {
	if id == "" {
		return fail(http.StatusUnauthorized, "A token is required: pass it as the uuid query parameter.")
	}
	var tok *Token
	for i := range v.tokens {
		if v.tokens[i].UUID == id {
			tok = &v.tokens[i]
			break
		}
	}
	if tok == nil {
		return fail(http.StatusUnauthorized, "The uuid query parameter does not name a token.")
	}
	if !tok.Read {
		return fail(http.StatusForbidden, "The token does not have read access.")
	}
	if need == needChange && !tok.Change {
		return fail(http.StatusForbidden, "The token does not have change access.")
	}
	n, err := strconv.ParseInt(agentID, 10, 64)
	a, ok := v.agents[n]
	if err != nil || !ok {
		return fail(http.StatusNotFound, "No agent has id "+strconv.Quote(agentID)+".")
	}
	return h(a)
}

func (v *Vendor) agentState(a *Agent) reply { return reply{status: http.StatusOK, body: *a} }

// setEnabled enables or disables the agent. The vendor documents no response
// body; the sandbox returns the agent's new state, as the GET does.
func (v *Vendor) setEnabled(enabled bool) func(a *Agent) reply {
	return func(a *Agent) reply {
		if a.Enabled != enabled {
			a.Enabled = enabled
			v.env.Changed()
		}
		return reply{status: http.StatusOK, body: *a}
	}
}

// state is the persisted form: tokens in creation order and the agents.
type state struct {
	Tokens []Token `json:"tokens"`
	Agents []Agent `json:"agents"`
}

// SaveState returns the tokens and agents.
func (v *Vendor) SaveState() (json.RawMessage, error) {
	st := state{Tokens: append([]Token{}, v.tokens...), Agents: []Agent{}}
	for _, a := range v.agents {
		st.Agents = append(st.Agents, *a)
	}
	sort.Slice(st.Agents, func(i, j int) bool { return st.Agents[i].ID < st.Agents[j].ID })
	return json.Marshal(st)
}

// LoadState restores SaveState's output; a state without agents gets the
// default one.
func (v *Vendor) LoadState(raw json.RawMessage) error {
	var st state
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &st); err != nil {
			return err
		}
	}
	v.tokens = st.Tokens
	v.agents = map[int64]*Agent{}
	for _, a := range st.Agents {
		v.agents[a.ID] = &a
	}
	if len(v.agents) == 0 {
		a := defaultAgent()
		v.agents[a.ID] = &a
	}
	return nil
}
