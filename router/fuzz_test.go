package router

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/orderbell/orderbell/models"
)

// FuzzReadBody feeds any body with any of the content types a client may
// send and reads every field the API reads. Whatever comes in, the result
// is values or a 400-class error naming the problem: never a panic, never
// an error that would become a 500.
func FuzzReadBody(f *testing.F) {
	seeds := []struct{ contentType, body string }{
		{"application/json", `{"store_id":1,"items":[{"menu_id":2,"count":3}]}`},
		{"application/json", `{"store_id":"1","items":"[{\"menu_id\":2,\"count\":3}]"}`},
		{"application/json", `[1,2]`},
		{"application/json", `{"a":1}{"b":2}`},
		{"application/json", `{"price":1e400}`},
		{"application/x-www-form-urlencoded", "store_id=1&items%5B0%5D%5Bmenu_id%5D=2&items%5B0%5D%5Bcount%5D=3"},
		{"application/x-www-form-urlencoded", "items[0]=1&items[0][x]=2"},
		{"application/x-www-form-urlencoded", "a[b][c][d][e]=1&%ZZ"},
		{"text/plain", "hello"},
		{"", ""},
	}
	for _, s := range seeds {
		f.Add(s.contentType, s.body)
	}
	gin.SetMode(gin.ReleaseMode)
	f.Fuzz(func(t *testing.T, contentType, body string) {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest("POST", "/order", strings.NewReader(body))
		c.Request.Header.Set("Content-Type", contentType)
		fields, err := readBody(c)
		check := func(err error) {
			if err != nil && !errors.Is(err, models.ErrInvalid) && !errors.Is(err, errTooLarge) {
				t.Fatalf("%q %q: %v is not a 400-class error", contentType, body, err)
			}
		}
		check(err)
		if err != nil {
			return
		}
		for _, name := range []string{"role", "email", "password", "nickname", "name"} {
			_, err := fields.str(name)
			check(err)
		}
		for _, name := range []string{"store_id", "price", "up_to_id"} {
			_, err := fields.int(name)
			check(err)
		}
		items, err := fields.list("items")
		check(err)
		for _, item := range items {
			_, err := item.int("menu_id")
			check(err)
			_, err = item.int("count")
			check(err)
		}
	})
}
