package store

import (
	"database/sql/driver"
	"strconv"
	"strings"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/lib/pq"
)

// ent writes `x IN ($1, $2, …, $n)` with one argument per value: each length is
// a statement of its own, and PostgreSQL plans such a statement again on every
// execution (n parameters never make a generic plan worth its cost in its
// estimate), which for the members page's groups cost more than running it.
// The statement cache sends the list as one array instead: `x = ANY($1)`
// (`x <> ALL($1)` for NOT IN), the same rows for any length. After five
// executions PostgreSQL keeps a generic plan and stops planning; measured on
// the benchmark's groups eager load, 0.75 ms of planning and running became
// 0.1 ms. Lists of one type only (text or integers) are sent as arrays; any
// other list, and any statement holding a literal, is left as written.

// inList is one IN list of a statement: the ordinals of its first and last
// arguments.
type inList struct{ first, last int }

// anyForm is a statement with its IN lists collapsed, and the lists.
type anyForm struct {
	query string
	lists []inList
}

// anyForms remembers the rewrite of each statement text (nil: nothing to
// rewrite); statements are few and repeat.
var anyForms = sync.OnceValue(func() *lru.Cache[string, *anyForm] {
	c, _ := lru.New[string, *anyForm](1024)
	return c
})

// withArrays returns the statement and arguments to send for query and args:
// its IN lists of text or integers as arrays, or both unchanged.
func withArrays(query string, args []driver.NamedValue) (string, []driver.NamedValue) {
	if len(args) < 2 || !strings.Contains(query, " IN ($") {
		return query, args
	}
	form, ok := anyForms().Get(query)
	if !ok {
		form = collapseInLists(query)
		anyForms().Add(query, form)
	}
	if form == nil {
		return query, args
	}
	out := make([]driver.NamedValue, 0, len(args))
	next := 1 // the ordinal of the next argument of args to send
	for _, l := range form.lists {
		if l.last > len(args) {
			return query, args
		}
		for ; next < l.first; next++ {
			out = append(out, args[next-1])
		}
		array, ok := asArray(args[l.first-1 : l.last])
		if !ok {
			return query, args // a list of another type: send the statement as written
		}
		out = append(out, driver.NamedValue{Value: array})
		next = l.last + 1
	}
	out = append(out, args[next-1:]...)
	for i := range out {
		out[i].Ordinal = i + 1
	}
	return form.query, out
}

// asArray returns the values as one PostgreSQL array: all text or all integers.
func asArray(values []driver.NamedValue) (driver.Value, bool) {
	switch values[0].Value.(type) {
	case string:
		a := make(pq.StringArray, len(values))
		for i, v := range values {
			s, ok := v.Value.(string)
			if !ok {
				return nil, false
			}
			a[i] = s
		}
		v, err := a.Value()
		return v, err == nil
	case int64:
		a := make(pq.Int64Array, len(values))
		for i, v := range values {
			n, ok := v.Value.(int64)
			if !ok {
				return nil, false
			}
			a[i] = n
		}
		v, err := a.Value()
		return v, err == nil
	}
	return nil, false
}

// collapseInLists rewrites each `IN ($k, …, $m)` of consecutive placeholders
// to `= ANY($k')` (and NOT IN to `<> ALL($k')`), numbering the placeholders
// again in order. It returns nil when the statement holds a literal or
// numbers its placeholders in another order than 1, 2, 3… as ent does.
func collapseInLists(query string) *anyForm {
	if strings.ContainsAny(query, "'") {
		return nil
	}
	var (
		out   = make([]byte, 0, len(query))
		lists []inList
		want  = 1 // the next placeholder, in the order the statement uses them
		sent  = 0 // the placeholders of the statement sent
	)
	for i := 0; i < len(query); {
		if strings.HasPrefix(query[i:], " IN ($") {
			if first, last, end, ok := placeholderList(query, i+len(" IN (")); ok && first == want {
				op := " = ANY($"
				if n := len(out) - len(" NOT"); n >= 0 && string(out[n:]) == " NOT" {
					out, op = out[:n], " <> ALL($"
				}
				sent++
				out = append(strconv.AppendInt(append(out, op...), int64(sent), 10), ')')
				lists = append(lists, inList{first, last})
				want = last + 1
				i = end
				continue
			}
		}
		if query[i] == '$' {
			if n, width := number(query[i+1:]); width > 0 {
				if n != want {
					return nil
				}
				want++
				sent++
				out = strconv.AppendInt(append(out, '$'), int64(sent), 10)
				i += 1 + width
				continue
			}
		}
		out = append(out, query[i])
		i++
	}
	if len(lists) == 0 {
		return nil
	}
	return &anyForm{query: string(out), lists: lists}
}

// placeholderList reads `$k, $k+1, …, $m)` at query[at:]: the first and last
// ordinals and the index after the closing parenthesis.
func placeholderList(query string, at int) (first, last, end int, ok bool) {
	i := at
	for {
		if i >= len(query) || query[i] != '$' {
			return 0, 0, 0, false
		}
		n, width := number(query[i+1:])
		if width == 0 || (first != 0 && n != last+1) {
			return 0, 0, 0, false
		}
		if first == 0 {
			first = n
		}
		last = n
		i += 1 + width
		switch {
		case strings.HasPrefix(query[i:], ", "):
			i += 2
		case strings.HasPrefix(query[i:], ")"):
			return first, last, i + 1, true
		default:
			return 0, 0, 0, false
		}
	}
}

// number reads the decimal number at the start of s and its width.
func number(s string) (n, width int) {
	for width < len(s) && s[width] >= '0' && s[width] <= '9' {
		n = n*10 + int(s[width]-'0')
		width++
	}
	return n, width
}
