package sandbox

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// registerControl adds the sandbox's own routes under /_sandbox/. They are not
// vendor API: they let tests and demos move the clock forward (to expire
// tokens) and ask what the sandbox is. They need no credentials; the sandbox
// only listens on loopback.
func registerControl(s *Server) {
	s.mux.HandleFunc("GET /_sandbox/info", func(w http.ResponseWriter, r *http.Request) {
		s.env.Lock()
		now := s.env.Now()
		s.env.Unlock()
		names := make([]string, 0, len(s.vendors))
		for _, v := range s.vendors {
			names = append(names, v.Name())
		}
		sim.WriteJSON(w, http.StatusOK, map[string]any{
			"vendors":  names,
			"now_ms":   now.UnixMilli(),
			"requests": s.Requests(),
		})
	})
	s.mux.HandleFunc("POST /_sandbox/clock", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Advance string `json:"advance"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, sim.MaxBody)).Decode(&body); err != nil {
			sim.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be {\"advance\": \"<duration>\"}"})
			return
		}
		d, err := time.ParseDuration(body.Advance)
		if err != nil || d < 0 {
			sim.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "advance must be a positive Go duration such as 31m"})
			return
		}
		s.env.Lock()
		s.env.Advance(d)
		now := s.env.Now()
		s.env.Changed()
		s.env.Unlock()
		sim.WriteJSON(w, http.StatusOK, map[string]any{"now_ms": now.UnixMilli()})
	})
}
