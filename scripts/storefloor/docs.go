package main

import "fmt"

func sprintfProfile(pid string, views int) string  { return fmt.Sprintf(profileDoc, pid, pid, views) }
func sprintfSession(sid, pid string, d int) string { return fmt.Sprintf(sessionDoc, sid, pid, d) }
