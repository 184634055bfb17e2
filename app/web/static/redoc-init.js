// Starts ReDoc from a file (no inline script). Its styled-components add <style> elements at run time:
// they carry this page's nonce, which the page's CSP names, so style-src needs no 'unsafe-inline'.
Redoc.init("/openapi.json", { nonce: document.querySelector('meta[name="csp-nonce"]').content },
           document.getElementById("redoc"));
