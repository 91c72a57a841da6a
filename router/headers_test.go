package router

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

// The security headers' values are shared by every answer: a handler that
// adds to or sets one of them changes its own answer only.
func TestSecurityHeadersAreNotChangedByAHandler(t *testing.T) {
	gin.SetMode(gin.TestMode)
	e := gin.New()
	e.Use(securityHeaders)
	e.GET("/add", func(c *gin.Context) {
		c.Writer.Header().Add("X-Frame-Options", "SAMEORIGIN")
		c.Writer.Header().Set("Referrer-Policy", "no-referrer")
		c.Status(http.StatusNoContent)
	})
	e.GET("/plain", func(c *gin.Context) { c.Status(http.StatusNoContent) })

	get := func(path string) http.Header {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w.Result().Header
	}
	if h := get("/add"); len(h.Values("X-Frame-Options")) != 2 || h.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("the handler's own changes are missing: %v", h)
	}
	for range 2 {
		h := get("/plain")
		if v := h.Values("X-Frame-Options"); len(v) != 1 || v[0] != "DENY" {
			t.Errorf("X-Frame-Options after another answer added to it: %q", v)
		}
		if v := h.Get("Referrer-Policy"); v != "same-origin" {
			t.Errorf("Referrer-Policy after another answer set it: %q", v)
		}
	}
}
