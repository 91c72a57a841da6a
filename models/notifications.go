package models

import (
	"context"
	"slices"
	"time"
)

// Bounds on what a reconnecting device is replayed, and on one page of
// GET /notifications.
const (
	ReplayLimit        = 100
	ReplayMaxAge       = 24 * time.Hour
	NotificationsLimit = 100
)

// NotificationsAfter returns up to NotificationsLimit of the principal's
// alerts with id > after, oldest first.
func (db *DB) NotificationsAfter(ctx context.Context, p Principal, after int64) ([]Notification, error) {
	var list []Notification
	err := db.gorm.WithContext(ctx).
		Where("recipient_role = ? AND recipient_id = ? AND id > ?", p.Role, p.ID, after).
		Order("id").Limit(NotificationsLimit).Find(&list).Error
	return list, dbErr(err)
}

// Missed returns the alerts a device that last saw alert `after` missed:
// the newest ReplayLimit of those under ReplayMaxAge old, oldest first. An
// older backlog is not rung again; it stays listed by GET /notifications.
func (db *DB) Missed(ctx context.Context, p Principal, after int64) ([]Notification, error) {
	var list []Notification
	err := db.gorm.WithContext(ctx).
		Where("recipient_role = ? AND recipient_id = ? AND id > ? AND created_at >= ?",
			p.Role, p.ID, after, now().Add(-ReplayMaxAge)).
		Order("id DESC").Limit(ReplayLimit).Find(&list).Error
	slices.Reverse(list)
	return list, dbErr(err)
}

// MarkRead marks the principal's alerts up to and including upToID read.
func (db *DB) MarkRead(ctx context.Context, p Principal, upToID int64) error {
	err := db.gorm.WithContext(ctx).Model(&Notification{}).
		Where("recipient_role = ? AND recipient_id = ? AND id <= ? AND read_at IS NULL", p.Role, p.ID, upToID).
		Update("read_at", now()).Error
	return dbErr(err)
}

// UnreadCount is how many of the principal's alerts are not read yet.
func (db *DB) UnreadCount(ctx context.Context, p Principal) (int64, error) {
	var n int64
	err := db.gorm.WithContext(ctx).Model(&Notification{}).
		Where("recipient_role = ? AND recipient_id = ? AND read_at IS NULL", p.Role, p.ID).
		Count(&n).Error
	return n, dbErr(err)
}

// Latest returns the principal's newest n alerts (n ≤ NotificationsLimit),
// oldest first.
func (db *DB) Latest(ctx context.Context, p Principal, n int) ([]Notification, error) {
	n = min(max(n, 1), NotificationsLimit)
	var list []Notification
	err := db.gorm.WithContext(ctx).
		Where("recipient_role = ? AND recipient_id = ?", p.Role, p.ID).
		Order("id DESC").Limit(n).Find(&list).Error
	slices.Reverse(list)
	return list, dbErr(err)
}

// LatestID is the id of the principal's newest alert, 0 when none.
func (db *DB) LatestID(ctx context.Context, p Principal) (int64, error) {
	var ids []int64
	err := db.gorm.WithContext(ctx).Model(&Notification{}).
		Where("recipient_role = ? AND recipient_id = ?", p.Role, p.ID).
		Order("id DESC").Limit(1).Pluck("id", &ids).Error
	if len(ids) == 0 {
		return 0, dbErr(err)
	}
	return ids[0], dbErr(err)
}
