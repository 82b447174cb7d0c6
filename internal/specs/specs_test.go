package specs

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A small spec of our own (no vendor file is copied): one operation with a
// security requirement, a query enum and a strict response schema.
const petSpec = `openapi: 3.0.1
info: {title: pets, version: "1"}
servers: [{url: "https://{api_host}", variables: {api_host: {default: pets.example}}}]
paths:
  /pets/{id}:
    get:
      operationId: GetPet
      security: [{basic: []}]
      parameters:
      - {in: path, name: id, required: true, schema: {type: string}}
      - {in: query, name: kind, schema: {type: string, enum: [cat, dog]}}
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Pet'}
components:
  securitySchemes:
    basic: {type: apiKey, in: header, name: Authorization}
  schemas:
    Pet:
      type: object
      required: [name]
      properties: {name: {type: string}}
      additionalProperties: false
    Loose:
      allOf: [{$ref: '#/components/schemas/Pet'}]
      additionalProperties: false
`

func TestDirAndLoad(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pets.yaml"), []byte(petSpec), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvDir, dir)
	if got := Dir(t); got != dir {
		t.Fatalf("Dir = %s, want %s", got, dir)
	}
	doc := Load(t, "pets.yaml")
	if doc.Paths.Find("/pets/{id}") == nil {
		t.Fatal("the loaded spec lacks its path")
	}
	RelaxAdditionalProperties(t, doc, "Loose")
	if doc.Components.Schemas["Loose"].Value.AdditionalProperties.Has != nil {
		t.Error("additionalProperties not relaxed")
	}

	t.Setenv(EnvDir, filepath.Join(dir, "absent"))
	if _, err := find(); err == nil || !strings.Contains(err.Error(), EnvDir) {
		t.Errorf("find with a missing dir: %v", err)
	}
}

func TestValidator(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pets.yaml"), []byte(petSpec), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvDir, dir)
	v := NewValidator(t, Load(t, "pets.yaml"))
	ctx := context.Background()
	exchange := func(url, auth, body string) Exchange {
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		return Exchange{Request: req, Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}
	}
	// A loopback URL routes although the spec names another server.
	good := exchange("http://127.0.0.1:1234/pets/7?kind=cat", "Basic eDp5", `{"name":"Tom"}`)
	if op, err := v.Operation(good.Request); err != nil || op != "GetPet" {
		t.Fatalf("Operation = %q, %v", op, err)
	}
	if err := v.Validate(ctx, good); err != nil {
		t.Fatalf("a valid exchange: %v", err)
	}
	if err := v.Validate(ctx, exchange("http://127.0.0.1:1234/pets/7", "", `{"name":"Tom"}`)); err == nil {
		t.Error("a request without Authorization passed")
	}
	if err := v.ValidateRequest(ctx, exchange("http://127.0.0.1:1234/pets/7?kind=cow", "Basic eDp5", "")); err == nil {
		t.Error("a bad enum passed")
	}
	if err := v.ValidateResponse(ctx, exchange("http://127.0.0.1:1234/pets/7", "", `{"name":"Tom","age":3}`)); err == nil {
		t.Error("an extra response property passed")
	}
	if _, err := v.Operation(exchange("http://127.0.0.1:1234/cats", "", "").Request); err == nil {
		t.Error("an unknown path routed")
	}
}
