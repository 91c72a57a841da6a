package router

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// fields is a decoded request body. JSON and form bodies decode to the
// same tree, so every handler reads both with the same typed getters, and
// every type error names its field.
type fields map[string]any

// readBody decodes a JSON or form-encoded body. An empty body is an empty
// object.
func readBody(c *gin.Context) (fields, error) {
	raw, err := readAll(c.Request)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, fmt.Errorf("%w: the limit is %d bytes", errTooLarge, tooLarge.Limit)
		}
		return nil, badRequest("could not read the request body")
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return fields{}, nil
	}
	mediaType, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	switch mediaType {
	case "application/json", "":
		return decodeJSON(raw)
	case "application/x-www-form-urlencoded":
		values, err := url.ParseQuery(string(raw))
		if err != nil {
			return nil, badRequest("the form body is malformed")
		}
		return formTree(values)
	}
	return nil, badRequest("the body must be JSON or form-encoded, not %s", mediaType)
}

// exactBodyMax bounds the buffer readAll makes before the bytes arrive.
const exactBodyMax = 4 << 10

// readAll reads the whole body. A small body of known length (every order
// and login) is read into a buffer of exactly its size: io.ReadAll starts
// at 512 bytes, a quarter of the garbage a POST /order made in its
// handler. A larger or unannounced body grows with the bytes that come.
func readAll(r *http.Request) ([]byte, error) {
	if n := r.ContentLength; n > 0 && n <= exactBodyMax {
		raw := make([]byte, n)
		if _, err := io.ReadFull(r.Body, raw); err != nil {
			return nil, err
		}
		return raw, nil
	}
	return io.ReadAll(r.Body)
}

func decodeJSON(raw []byte) (fields, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, badRequest("the JSON body is malformed: %v", err)
	}
	if dec.More() {
		return nil, badRequest("the JSON body has data after its end")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest("the JSON body must be an object")
	}
	return obj, nil
}

// bracketKey splits jQuery's nested form keys: items[0][menu_id].
var bracketKey = regexp.MustCompile(`^([^\[\]]+)((?:\[[^\[\]]*\])*)$`)

// formTree turns a form into the tree JSON would give, understanding
// jQuery.param's nesting (items[0][menu_id]=1) and a field holding JSON
// (items=[{"menu_id":1,"count":2}]).
func formTree(values url.Values) (fields, error) {
	root := map[string]any{}
	for key, vals := range values {
		value := vals[len(vals)-1]
		m := bracketKey.FindStringSubmatch(key)
		if m == nil {
			return nil, badRequest("form field %q is malformed", key)
		}
		path := []string{m[1]}
		if m[2] != "" {
			path = append(path, strings.Split(strings.Trim(m[2], "[]"), "][")...)
		}
		if len(path) > 4 {
			return nil, badRequest("form field %q is nested too deeply", key)
		}
		node := root
		for _, p := range path[:len(path)-1] {
			child, ok := node[p].(map[string]any)
			if !ok {
				if _, taken := node[p]; taken {
					return nil, badRequest("form field %q conflicts with another", key)
				}
				child = map[string]any{}
				node[p] = child
			}
			node = child
		}
		last := path[len(path)-1]
		if _, taken := node[last]; taken {
			return nil, badRequest("form field %q conflicts with another", key)
		}
		node[last] = value
	}
	// Only nested fields become arrays: the body itself stays an object
	// even when its keys are "0", "1"...
	for k, v := range root {
		root[k] = arraysFromIndexMaps(v)
	}
	return root, nil
}

// arraysFromIndexMaps turns maps keyed "0".."n-1" into arrays.
func arraysFromIndexMaps(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	for k, child := range m {
		m[k] = arraysFromIndexMaps(child)
	}
	if len(m) == 0 {
		return m
	}
	list := make([]any, len(m))
	for k, child := range m {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= len(m) {
			return m
		}
		list[i] = child
	}
	return list
}

// str reads a required string field.
func (f fields) str(name string) (string, error) {
	switch v := f[name].(type) {
	case nil:
		return "", badRequest("%s is required", name)
	case string:
		return v, nil
	}
	return "", badRequest("%s must be a string", name)
}

// int reads a required whole-number field, given as a JSON number or a
// decimal string (form bodies have nothing else).
func (f fields) int(name string) (int64, error) {
	v, ok := f[name]
	if !ok || v == nil {
		return 0, badRequest("%s is required", name)
	}
	n, ok := wholeNumber(v)
	if !ok {
		return 0, badRequest("%s must be a whole number", name)
	}
	return n, nil
}

func wholeNumber(v any) (int64, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, false
		}
		return int64(x), true
	default:
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// list reads a required array of objects. A form may carry it as JSON text.
func (f fields) list(name string) ([]fields, error) {
	v := f[name]
	if text, ok := v.(string); ok {
		var decoded any
		dec := json.NewDecoder(strings.NewReader(text))
		dec.UseNumber()
		if dec.Decode(&decoded) != nil {
			return nil, badRequest("%s must be a list", name)
		}
		v = decoded
	}
	if v == nil {
		return nil, badRequest("%s is required", name)
	}
	raw, ok := v.([]any)
	if !ok {
		return nil, badRequest("%s must be a list", name)
	}
	out := make([]fields, len(raw))
	for i, item := range raw {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, badRequest("%s[%d] must be an object", name, i)
		}
		out[i] = obj
	}
	return out, nil
}

// pathID reads a positive id from the URL path.
func pathID(c *gin.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, badRequest("%s must be a positive whole number", name)
	}
	return id, nil
}
