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
//
// Slow writers: a handler that finds the content unfinished returns
// Incomplete; the file then stays until it changes, or until it has been
// unchanged for IncompleteWait, when it is handed over once more as settled.
// With one worker nothing written later overtakes such a file. A rejected
// file that still grows in the error folder (its writer held it open) is
// moved back and tried again.
//
// Names in archive/ and error/ always fit the filesystem together with the
// ".error" note: long names are cut, keeping their beginning, extension and
// a short hash of the full name. The watcher's own work (reading, archiving,
// moving to error/) is retried at most MaxRetries times, so no file is
// handed over again and again.
//
// Staging (Writer.Stage, Publish): a file written under a staging name of
// its own in the writer's temp folder and moved into place by one rename is
// at every moment either staged or published, so a writer killed in between
// can tell afterwards which it was.
package folder
