// Package folder is the exchange-folder transport: a Watcher that hands
// complete files of a folder to a handler and then archives, deletes or
// rejects them, and a Writer that makes files appear atomically without ever
// overwriting one the reader has not picked up. It knows nothing of the file
// formats it moves.
//
// A file counts as complete when its size and mtime have been stable for the
// quiet period, or earlier when the caller's Complete check says so (GDT: the
// 8100 record length matches), or when Ready is called (an FTP upload renamed
// into place). File events (fsnotify) trigger checks; a periodic rescan finds
// what events miss on network shares.
package folder
