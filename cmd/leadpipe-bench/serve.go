package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/leadpipe/leadpipe/internal/thousands"
)

// benchUpload measures an upload through the daemon's HTTP API: it starts `leadpipe broker` and
// `leadpipe serve`,
// streams the file to POST /v1/imports, waits for the import to complete, and reports the
// daemon's peak RSS (VmHWM) against its RSS when idle, measured in the same run. It returns
// the exit status: 1 when the peak is over maxRSSMB.
func benchUpload(ctx context.Context, bin, postgresURL, path string, rows int, maxRSSMB float64) int {
	filesDir, err := os.MkdirTemp("", "leadpipe-bench-files-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(filesDir)
	addr, err := freeAddr()
	if err != nil {
		return fail(err)
	}
	// The daemon publishes to a broker of its own process, as in production: the embedded
	// broker keeps its topics in memory, which would count in the daemon's RSS.
	kafkaAddr, err := freeAddr()
	if err != nil {
		return fail(err)
	}
	kafkaDir, err := os.MkdirTemp("", "leadpipe-bench-kafka-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(kafkaDir)
	kafka := exec.CommandContext(ctx, bin, "broker", "--addr", kafkaAddr, "--data-dir", kafkaDir)
	kafka.Env = append(os.Environ(), "LEADPIPE_LOG_LEVEL=warn")
	if err := kafka.Start(); err != nil {
		return fail(err)
	}
	defer func() {
		kafka.Process.Signal(syscall.SIGTERM) //nolint:errcheck // Wait reports how it ended
		kafka.Wait()                          //nolint:errcheck // a stopped broker's status is not news
	}()
	env := append(os.Environ(), "LEADPIPE_POSTGRES_URL="+postgresURL, "LEADPIPE_HTTP_ADDR="+addr,
		"LEADPIPE_FILES_DIR="+filesDir, "LEADPIPE_WORKERS=1", "LEADPIPE_LOG_LEVEL=warn",
		"LEADPIPE_KAFKA_BROKERS="+kafkaAddr)
	if _, err := runQuiet(ctx, env, bin, "migrate"); err != nil {
		return fail(err)
	}
	account := "bench-upload-" + strconv.FormatInt(time.Now().Unix(), 10)
	if _, err := runQuiet(ctx, env, bin, "account", "create", account); err != nil {
		return fail(err)
	}
	out, err := runQuiet(ctx, env, bin, "token", "create", "--account", account)
	if err != nil {
		return fail(err)
	}
	token := strings.TrimSpace(string(out))

	daemon := exec.CommandContext(ctx, bin, "serve")
	daemon.Env, daemon.Stderr = env, os.Stderr
	if err := daemon.Start(); err != nil {
		return fail(err)
	}
	defer func() {
		daemon.Process.Signal(syscall.SIGTERM) //nolint:errcheck // Wait reports how it ended
		daemon.Wait()                          //nolint:errcheck // a stopped daemon's status is not news
	}()
	base := "http://" + addr
	if err := waitReady(ctx, base+"/readyz"); err != nil {
		return fail(err)
	}
	idle, _ := procStatusKiB(daemon.Process.Pid, "VmRSS")

	size, _ := fileSize(path)
	start := time.Now()
	id, err := upload(ctx, base+"/v1/imports", token, path)
	if err != nil {
		return fail(err)
	}
	uploadTime := time.Since(start)
	status, err := waitImport(ctx, base+"/v1/imports/"+id, token)
	if err != nil {
		return fail(err)
	}
	total := time.Since(start)
	peak, err := procStatusKiB(daemon.Process.Pid, "VmHWM")
	if err != nil {
		return fail(err)
	}
	peakMB := float64(peak) / 1024
	fmt.Printf("upload      %s through POST /v1/imports in %.2f s (%.0f MB/s), import %s %s: %s rows in %.2f s from the start of the upload\n",
		sizeMB(size), uploadTime.Seconds(), float64(size)/(1<<20)/uploadTime.Seconds(), id, status, thousands.Format(int64(rows)), total.Seconds())
	fmt.Printf("daemon RSS  idle %.1f MB, peak %.1f MB (VmHWM, upload and import included)\n", float64(idle)/1024, peakMB)
	if status != "completed" {
		fmt.Printf("target MISSED: import %s ended %s\n", id, status)
		return 1
	}
	var g goals
	g.add("daemon peak RSS, upload", peakMB <= maxRSSMB, fmt.Sprintf("%.1f MB", peakMB), fmt.Sprintf("<= %.0f MB", maxRSSMB))
	return g.report()
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func fileSize(path string) (int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// waitReady polls url until it answers 200, for up to 30 seconds.
func waitReady(ctx context.Context, url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("the daemon did not become ready at %s", url)
}

// upload streams path as the "file" part of a multipart POST, never holding it in memory,
// and returns the import id of the 202 answer.
func upload(ctx context.Context, url, token, path string) (string, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		part, err := mw.CreateFormFile("file", filepath.Base(path))
		if err == nil {
			var f *os.File
			if f, err = os.Open(path); err == nil {
				_, err = io.Copy(part, f)
				f.Close()
			}
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, pr)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		ImportID json.Number `json:"import_id"`
		Error    string      `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("upload: %s %s", resp.Status, body.Error)
	}
	return body.ImportID.String(), nil
}

// waitImport polls an import until it ends and returns its final status.
func waitImport(ctx context.Context, url, token string) (string, error) {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return "", err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err
		}
		var v struct {
			Status string `json:"status"`
		}
		err = json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		if err != nil {
			return "", err
		}
		switch v.Status {
		case "completed", "failed", "cancelled":
			return v.Status, nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// procStatusKiB reads a "kB" field (VmRSS, VmHWM) of /proc/PID/status.
func procStatusKiB(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}
