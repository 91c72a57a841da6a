package router

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/orderbell/orderbell/auth"
	"github.com/orderbell/orderbell/models"
)

// pageUser is the logged-in account as pages show it.
type pageUser struct {
	Role     models.Role
	ID       int64
	Nickname string
}

// page is what every template gets; Data is the page's own.
type page struct {
	Page               string
	Title              string
	User               *pageUser
	LastNotificationID int64
	Flash              string
	Data               any
}

const flashCookie = "flash"

func (s *Server) registerPageRoutes(r gin.IRoutes) {
	r.GET("/", s.storesPage)
	r.GET("/login", s.loginPage)
	r.GET("/signup", s.signupPage)
	r.GET("/mypage", s.myPage)
	r.GET("/static/*file", s.staticFile)
}

// wantsHTML tells a browser navigation or form post (Accept: text/html)
// from fetch and API clients, which get JSON.
func wantsHTML(c *gin.Context) bool {
	return strings.Contains(c.GetHeader("Accept"), "text/html")
}

// viewer is the logged-in account of a page request, or nil.
func (s *Server) viewer(c *gin.Context) *models.Principal {
	token, err := c.Cookie(auth.CookieName)
	if err != nil || token == "" {
		return nil
	}
	p, _, err := s.tokens.Parse(token)
	if err != nil {
		return nil
	}
	return &p
}

// render writes a page for the viewer (nil: logged out).
func (s *Server) render(c *gin.Context, status int, name, title string, viewer *models.Principal, data any) {
	ctx := c.Request.Context()
	pg := page{Page: name, Title: title, Data: data, Flash: s.takeFlash(c)}
	if viewer != nil {
		nickname, err := s.db.Nickname(ctx, *viewer)
		if errors.Is(err, models.ErrNotFound) {
			// A valid token for an account that is gone: log it out.
			s.clearLoginCookie(c)
			viewer = nil
		} else if err != nil {
			s.fail(c, err)
			return
		}
		if viewer != nil {
			last, err := s.db.LatestID(ctx, *viewer)
			if err != nil {
				s.fail(c, err)
				return
			}
			pg.User = &pageUser{Role: viewer.Role, ID: viewer.ID, Nickname: nickname}
			pg.LastNotificationID = last
		}
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	c.Status(status)
	if err := s.pages.Render(c.Writer, name, pg); err != nil {
		s.log.Error("render page", "page", name, "err", err)
	}
}

// renderError shows an error as a page.
func (s *Server) renderError(c *gin.Context, err error) {
	status, message := s.errorMessage(c, err)
	s.render(c, status, "error", http.StatusText(status), s.viewer(c), message)
	c.Abort()
}

// redirectWithFlash answers a form post: a message for the next page, and
// a 303 to it (Post/Redirect/Get).
func (s *Server) redirectWithFlash(c *gin.Context, to, message string) {
	if message != "" {
		http.SetCookie(c.Writer, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(message), Path: "/", MaxAge: 60,
			HttpOnly: true, Secure: s.cfg.CookieSecure, SameSite: http.SameSiteLaxMode})
	}
	c.Redirect(http.StatusSeeOther, to)
	c.Abort()
}

func (s *Server) takeFlash(c *gin.Context) string {
	raw, err := c.Cookie(flashCookie)
	if err != nil || raw == "" {
		return ""
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.cfg.CookieSecure, SameSite: http.SameSiteLaxMode})
	message, _ := url.QueryUnescape(raw)
	return message
}

// failForm answers a failed request: a browser's form post goes back to
// the form with the reason; everyone else gets the JSON error.
func (s *Server) failForm(c *gin.Context, err error, back string) {
	if !wantsHTML(c) {
		s.fail(c, err)
		return
	}
	status, message := s.errorMessage(c, err)
	switch status {
	case http.StatusUnauthorized:
		message = "로그인이 필요합니다."
		if c.FullPath() == "/login" {
			message = "이메일 또는 비밀번호가 올바르지 않습니다."
		}
	case http.StatusConflict:
		message = "이미 가입된 이메일입니다."
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		message = "입력을 확인해 주세요: " + message
	case http.StatusForbidden:
		message = "권한이 없습니다: " + message
	case http.StatusNotFound:
		message = "찾을 수 없습니다: " + message
	default:
		message = "잠시 후 다시 시도해 주세요."
	}
	s.redirectWithFlash(c, back, message)
}

func (s *Server) storesPage(c *gin.Context) {
	stores, err := s.db.ListStores(c.Request.Context())
	if err != nil {
		s.renderError(c, err)
		return
	}
	s.render(c, http.StatusOK, "stores", "가게 목록", s.viewer(c), gin.H{"Stores": stores})
}

func (s *Server) storePage(c *gin.Context, id int64) {
	store, err := s.db.GetStore(c.Request.Context(), id)
	if err != nil {
		s.renderError(c, err)
		return
	}
	viewer := s.viewer(c)
	isOwner := viewer != nil && viewer.Role == models.RoleOwner && viewer.ID == store.OwnerID
	s.render(c, http.StatusOK, "store", store.Name, viewer, gin.H{"Store": store, "IsOwner": isOwner})
}

func (s *Server) loginPage(c *gin.Context) {
	if s.viewer(c) != nil {
		c.Redirect(http.StatusSeeOther, "/")
		return
	}
	s.render(c, http.StatusOK, "login", "로그인", nil, nil)
}

func (s *Server) signupPage(c *gin.Context) {
	if s.viewer(c) != nil {
		c.Redirect(http.StatusSeeOther, "/")
		return
	}
	s.render(c, http.StatusOK, "signup", "회원가입", nil, nil)
}

func (s *Server) myPage(c *gin.Context) {
	viewer := s.viewer(c)
	if viewer == nil {
		s.redirectWithFlash(c, "/login", "로그인이 필요합니다.")
		return
	}
	orders, err := s.db.ListOrders(c.Request.Context(), *viewer)
	if err != nil {
		s.renderError(c, err)
		return
	}
	title := "내 주문"
	if viewer.Role == models.RoleOwner {
		title = "받은 주문"
	}
	s.render(c, http.StatusOK, "mypage", title, viewer, gin.H{"Orders": orders})
}

func (s *Server) staticFile(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("file"), "/")
	if name == "" || strings.HasPrefix(name, "socket.io") {
		c.AbortWithStatusJSON(http.StatusNotFound, gin.H{"message": "no such file"})
		return
	}
	c.Header("Cache-Control", "no-cache")
	c.FileFromFS(name, http.FS(s.static))
}
