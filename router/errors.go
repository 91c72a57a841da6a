package router

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/orderbell/orderbell/models"
)

// errTooLarge is a body over the limit.
var errTooLarge = errors.New("request body is too large")

// statusOf maps an error to its HTTP status: the kinds in models, plus the
// few that only HTTP knows.
func statusOf(err error) int {
	switch {
	case errors.Is(err, models.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, models.ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, models.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, models.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, models.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, models.ErrUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// fail answers {"message": …} with the status the error maps to.
func (s *Server) fail(c *gin.Context, err error) {
	status, message := s.errorMessage(c, err)
	c.AbortWithStatusJSON(status, gin.H{"message": message})
}

// errorMessage is the status and the message shown for err. Unexpected
// errors are logged, and shown only as "internal error".
func (s *Server) errorMessage(c *gin.Context, err error) (int, string) {
	status := statusOf(err)
	switch status {
	case http.StatusInternalServerError:
		s.logger(c).Error("request failed", "method", c.Request.Method, "path", c.FullPath(), "err", err)
		return status, "internal error"
	case http.StatusServiceUnavailable:
		s.logger(c).Warn("database unavailable", "method", c.Request.Method, "path", c.FullPath(), "err", err)
		return status, "the database is unavailable; try again shortly"
	}
	return status, err.Error()
}

func badRequest(format string, args ...any) error {
	return &models.Error{Kind: models.ErrInvalid, Message: fmt.Sprintf(format, args...)}
}
