package models

import (
	"testing"
	"time"
)

// AgeNotification makes a stored alert look older than it is.
func AgeNotification(t *testing.T, db *DB, id int64, age time.Duration) {
	t.Helper()
	if err := db.gorm.Model(&Notification{}).Where("id = ?", id).Update("created_at", now().Add(-age)).Error; err != nil {
		t.Fatal(err)
	}
}
