// Package views holds the server-rendered pages: one shared layout
// (layout.html) that carries the socket client and the alert UI, so every
// page of a logged-in user rings, and one template per page.
package views

import (
	"embed"
	"fmt"
	"html/template"
	"io"
)

//go:embed *.html
var files embed.FS

// Pages are the parsed templates, each page with the layout.
type Pages map[string]*template.Template

// Parse parses every page with the layout and the shared helpers.
func Parse() (Pages, error) {
	funcs := template.FuncMap{
		"won": func(n int64) string { return formatWon(n) },
	}
	pages := Pages{}
	for _, name := range []string{"login", "signup", "stores", "store", "mypage", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "layout.html", name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// Render writes the named page.
func (p Pages) Render(w io.Writer, name string, data any) error {
	t, ok := p[name]
	if !ok {
		return fmt.Errorf("no page %q", name)
	}
	return t.ExecuteTemplate(w, "layout.html", data)
}

// formatWon writes 12500 as "12,500원".
func formatWon(n int64) string {
	s := fmt.Sprint(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out) + "원"
	}
	return string(out) + "원"
}
