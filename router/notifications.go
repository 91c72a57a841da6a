package router

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/orderbell/orderbell/socket"
)

func (s *Server) registerNotificationRoutes(r gin.IRoutes) {
	r.GET("/notifications", s.requireLogin, s.listNotifications)
	r.POST("/notifications/read", s.requireLogin, s.markNotificationsRead)
}

type notificationResponse struct {
	socket.Alert
	Event string `json:"event"`
	Read  bool   `json:"read"`
}

// listNotifications answers the caller's alerts with id > after, oldest
// first, a page of at most 100; X-Unread-Count carries the unread total.
func (s *Server) listNotifications(c *gin.Context) {
	var after int64
	if raw, ok := c.GetQuery("after"); ok {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			s.fail(c, badRequest("after must be a whole number ≥ 0"))
			return
		}
		after = n
	}
	p := principal(c)
	list, err := s.db.NotificationsAfter(c.Request.Context(), p, after)
	if err != nil {
		s.fail(c, err)
		return
	}
	unread, err := s.db.UnreadCount(c.Request.Context(), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]notificationResponse, len(list))
	for i, n := range list {
		out[i] = notificationResponse{Alert: socket.AlertFor(n), Event: n.Event, Read: n.ReadAt != nil}
	}
	c.Header("X-Unread-Count", strconv.FormatInt(unread, 10))
	c.JSON(http.StatusOK, out)
}

func (s *Server) markNotificationsRead(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	upTo, err := body.int("up_to_id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if upTo < 0 {
		s.fail(c, badRequest("up_to_id must be ≥ 0"))
		return
	}
	if err := s.db.MarkRead(c.Request.Context(), principal(c), upTo); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
