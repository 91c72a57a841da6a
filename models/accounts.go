package models

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
)

// Password limits: bcrypt reads at most 72 bytes, so longer is refused
// rather than silently truncated.
const (
	MinPasswordLen = 8
	maxPasswordLen = 72
)

// SignupInput is what a new account gives.
type SignupInput struct {
	Role     Role
	Email    string
	Password string
	Nickname string
}

func normalizeEmail(email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return "", invalid("email is required")
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > 254 {
		return "", invalid("email is not a valid address")
	}
	return email, nil
}

// tableFor picks the account table of a role.
func tableFor(role Role) string {
	if role == RoleOwner {
		return "owners"
	}
	return "clients"
}

// CreateAccount stores a new client or owner with a bcrypt hash of its
// password. An email already taken for that role is a conflict.
func (db *DB) CreateAccount(ctx context.Context, in SignupInput) (Principal, error) {
	return createAccount(db.gorm.WithContext(ctx), in)
}

func createAccount(tx *gorm.DB, in SignupInput) (Principal, error) {
	if _, err := ParseRole(string(in.Role)); err != nil {
		return Principal{}, err
	}
	email, err := normalizeEmail(in.Email)
	if err != nil {
		return Principal{}, err
	}
	if utf8.RuneCountInString(in.Password) < MinPasswordLen {
		return Principal{}, invalid("password must be at least %d characters", MinPasswordLen)
	}
	if len(in.Password) > maxPasswordLen {
		return Principal{}, invalid("password must be at most %d bytes", maxPasswordLen)
	}
	nickname := strings.TrimSpace(in.Nickname)
	if nickname == "" {
		return Principal{}, invalid("nickname is required")
	}
	if utf8.RuneCountInString(nickname) > 100 {
		return Principal{}, invalid("nickname must be at most 100 characters")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(in.Password), bcrypt.DefaultCost)
	if err != nil {
		return Principal{}, err
	}
	account := Account{Email: email, PasswordHash: string(hash), Nickname: nickname, CreatedAt: now()}
	err = tx.Table(tableFor(in.Role)).Create(&account).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return Principal{}, conflict("an %s account with this email already exists", in.Role)
	}
	if err != nil {
		return Principal{}, dbErr(err)
	}
	return Principal{Role: in.Role, ID: account.ID}, nil
}

// dummyHash is compared against when the email is unknown, so a login
// takes as long for a missing account as for a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("orderbell-timing-equaliser"), bcrypt.DefaultCost)

// Authenticate checks an email and password for a role. Wrong email and
// wrong password give the same error.
func (db *DB) Authenticate(ctx context.Context, role Role, email, password string) (Principal, error) {
	if _, err := ParseRole(string(role)); err != nil {
		return Principal{}, err
	}
	wrong := &Error{Kind: ErrUnauthorized, Message: "email or password is wrong"}
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" || password == "" {
		return Principal{}, invalid("email and password are required")
	}
	var account Account
	err := db.gorm.WithContext(ctx).Table(tableFor(role)).Where("email = ?", email).Take(&account).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return Principal{}, wrong
	}
	if err != nil {
		return Principal{}, dbErr(err)
	}
	if bcrypt.CompareHashAndPassword([]byte(account.PasswordHash), []byte(password)) != nil {
		return Principal{}, wrong
	}
	return Principal{Role: role, ID: account.ID}, nil
}

// Nickname returns the account's display name.
func (db *DB) Nickname(ctx context.Context, p Principal) (string, error) {
	var account Account
	err := db.gorm.WithContext(ctx).Table(tableFor(p.Role)).Select("nickname").Where("id = ?", p.ID).Take(&account).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", notFound("the account no longer exists")
	}
	return account.Nickname, dbErr(err)
}
