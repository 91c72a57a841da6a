package router

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/orderbell/orderbell/models"
)

func (s *Server) registerStoreRoutes(r gin.IRoutes) {
	r.GET("/stores", s.listStores)
	r.GET("/stores/:store_id", s.getStore)
	r.POST("/stores", s.loggedIn(s.createStore))
	r.POST("/stores/:store_id/menus", s.loggedIn(s.createMenu))
}

type storeResponse struct {
	StoreID int64  `json:"store_id"`
	Name    string `json:"name"`
	OwnerID int64  `json:"owner_id"`
}

type menuResponse struct {
	MenuID int64  `json:"menu_id"`
	Name   string `json:"name"`
	Price  int64  `json:"price"`
}

type storeWithMenusResponse struct {
	storeResponse
	Menus []menuResponse `json:"menus"`
}

func (s *Server) listStores(c *gin.Context) {
	stores, err := s.db.ListStores(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]storeResponse, len(stores))
	for i, st := range stores {
		out[i] = storeResponse{StoreID: st.ID, Name: st.Name, OwnerID: st.OwnerID}
	}
	c.JSON(http.StatusOK, out)
}

// getStore answers a browser with the menu page, anyone else with JSON.
func (s *Server) getStore(c *gin.Context) {
	id, err := pathID(c, "store_id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if wantsHTML(c) {
		s.storePage(c, id)
		return
	}
	st, err := s.db.GetStore(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := storeWithMenusResponse{
		storeResponse: storeResponse{StoreID: st.ID, Name: st.Name, OwnerID: st.OwnerID},
		Menus:         make([]menuResponse, len(st.Menus)),
	}
	for i, m := range st.Menus {
		out.Menus[i] = menuResponse{MenuID: m.ID, Name: m.Name, Price: m.Price}
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) createStore(c *gin.Context, p models.Principal) {
	body, err := readBody(c)
	if err != nil {
		s.failForm(c, err, "/")
		return
	}
	name, err := body.str("name")
	if err != nil {
		s.failForm(c, err, "/")
		return
	}
	st, err := s.db.CreateStore(c.Request.Context(), p, name)
	if err != nil {
		s.failForm(c, err, "/")
		return
	}
	if wantsHTML(c) {
		s.redirectWithFlash(c, "/stores/"+strconv.FormatInt(st.ID, 10), "가게를 만들었습니다.")
		return
	}
	c.JSON(http.StatusCreated, gin.H{"store_id": st.ID})
}

func (s *Server) createMenu(c *gin.Context, p models.Principal) {
	storeID, err := pathID(c, "store_id")
	if err != nil {
		s.fail(c, err)
		return
	}
	back := "/stores/" + strconv.FormatInt(storeID, 10)
	body, err := readBody(c)
	if err != nil {
		s.failForm(c, err, back)
		return
	}
	name, err := body.str("name")
	if err != nil {
		s.failForm(c, err, back)
		return
	}
	price, err := body.int("price")
	if err != nil {
		s.failForm(c, err, back)
		return
	}
	m, err := s.db.CreateMenu(c.Request.Context(), p, storeID, name, price)
	if err != nil {
		s.failForm(c, err, back)
		return
	}
	if wantsHTML(c) {
		s.redirectWithFlash(c, back, "메뉴를 추가했습니다.")
		return
	}
	c.JSON(http.StatusCreated, gin.H{"menu_id": m.ID})
}
