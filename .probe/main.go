package main

import (
	"database/sql"
	"fmt"
	"os"

	_ "modernc.org/sqlite"
)

func main() {
	db, err := sql.Open("sqlite", "file:"+os.Args[1]+"?mode=ro")
	if err != nil {
		panic(err)
	}
	for _, q := range []string{`SELECT MIN(rowid) FROM results`, `SELECT MIN(rowid) FROM orders`, `SELECT MAX(rowid) FROM orders`} {
		var v sql.NullInt64
		if err := db.QueryRow(q).Scan(&v); err != nil {
			fmt.Println(q, err)
			continue
		}
		fmt.Println(q, v.Int64)
	}
}
