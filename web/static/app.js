// The page's entry point; see docs/page.md.
document.getElementById("app").textContent = "leadpipe";
