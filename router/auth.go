package router

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/orderbell/orderbell/auth"
	"github.com/orderbell/orderbell/models"
)

func (s *Server) registerAuthRoutes(r gin.IRoutes) {
	r.POST("/signup", s.signup)
	r.POST("/login", s.login)
	r.POST("/logout", s.logout)
}

type accountResponse struct {
	ID   int64       `json:"id"`
	Role models.Role `json:"role"`
}

// credentials reads role, email and password, common to signup and login.
func credentials(body fields) (models.Role, string, string, error) {
	roleText, err := body.str("role")
	if err != nil {
		return "", "", "", err
	}
	role, err := models.ParseRole(roleText)
	if err != nil {
		return "", "", "", err
	}
	email, err := body.str("email")
	if err != nil {
		return "", "", "", err
	}
	password, err := body.str("password")
	if err != nil {
		return "", "", "", err
	}
	return role, email, password, nil
}

func (s *Server) signup(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		s.failForm(c, err, "/signup")
		return
	}
	role, email, password, err := credentials(body)
	if err != nil {
		s.failForm(c, err, "/signup")
		return
	}
	nickname, err := body.str("nickname")
	if err != nil {
		s.failForm(c, err, "/signup")
		return
	}
	p, err := s.db.CreateAccount(c.Request.Context(), models.SignupInput{Role: role, Email: email, Password: password, Nickname: nickname})
	if err != nil {
		s.failForm(c, err, "/signup")
		return
	}
	if wantsHTML(c) {
		// Someone who just signed up in the browser expects to be in.
		if err := s.setLoginCookie(c, p); err != nil {
			s.failForm(c, err, "/signup")
			return
		}
		s.redirectWithFlash(c, "/", "가입을 환영합니다!")
		return
	}
	c.JSON(http.StatusCreated, accountResponse{ID: p.ID, Role: p.Role})
}

func (s *Server) login(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		s.failForm(c, err, "/login")
		return
	}
	role, email, password, err := credentials(body)
	if err != nil {
		s.failForm(c, err, "/login")
		return
	}
	ctx := c.Request.Context()
	if wait := take(ctx, s.limits.loginAddress, "login-address:"+c.ClientIP(), "too many logins from your address; wait and try again"); wait != nil {
		s.tooMany(c, wait)
		return
	}
	account := accountKey(role, email)
	if wait := reached(ctx, s.limits.loginFailures, account, "too many failed logins for this account; wait and try again"); wait != nil {
		s.tooMany(c, wait)
		return
	}
	p, err := s.db.Authenticate(ctx, role, email, password)
	if errors.Is(err, models.ErrUnauthorized) {
		_ = take(ctx, s.limits.loginFailures, account, "")
	}
	if err != nil {
		s.failForm(c, err, "/login")
		return
	}
	if err := s.setLoginCookie(c, p); err != nil {
		s.failForm(c, err, "/login")
		return
	}
	if wantsHTML(c) {
		c.Redirect(http.StatusSeeOther, "/")
		return
	}
	c.JSON(http.StatusOK, accountResponse{ID: p.ID, Role: p.Role})
}

func (s *Server) setLoginCookie(c *gin.Context, p models.Principal) error {
	token, expires, err := s.tokens.Issue(p, time.Now())
	if err != nil {
		return err
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name:     auth.CookieName,
		Value:    token,
		Path:     "/",
		Expires:  expires,
		MaxAge:   int(time.Until(expires).Seconds()),
		HttpOnly: true,
		Secure:   s.cfg.CookieSecure,
		SameSite: http.SameSiteLaxMode,
	})
	return nil
}

func (s *Server) logout(c *gin.Context) {
	s.clearLoginCookie(c)
	if wantsHTML(c) {
		s.redirectWithFlash(c, "/login", "로그아웃되었습니다.")
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) clearLoginCookie(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name:     auth.CookieName,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   s.cfg.CookieSecure,
		SameSite: http.SameSiteLaxMode,
	})
}
