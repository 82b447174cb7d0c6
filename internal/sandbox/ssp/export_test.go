package ssp

// RouteRoles exposes the operation table to the external tests: operationId
// to the roles the emulator admits.
func RouteRoles(e *Emulator) map[string][]string {
	m := map[string][]string{}
	for _, rt := range e.routes() {
		m[rt.operationID] = rt.roles
	}
	return m
}
