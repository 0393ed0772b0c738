// Progressive enhancement for push: without JavaScript the "Check" / "I approved it"
// buttons do the same job.
(function () {
  function poll(url, isDone, onDone) {
    let tries = 0;
    const timer = setInterval(() => {
      tries += 1;
      if (tries > 300) return clearInterval(timer);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : null))
        .then((data) => {
          if (data && isDone(data)) {
            clearInterval(timer);
            onDone(data);
          }
        })
        .catch(() => {});
    }, 1000);
  }
  // Enrollment page: reload once the phone has enrolled.
  const waiting = document.getElementById("push-waiting");
  if (waiting) {
    poll(waiting.dataset.statusUrl, (data) => data.done, () => {
      window.location.assign(waiting.dataset.nextUrl);
    });
  }
  // Sign-in page: submit the form once the phone answered.
  const number = document.getElementById("push-number");
  if (number) {
    poll(number.dataset.statusUrl, (data) => data.status !== "pending", () => {
      document.getElementById("second-factor-submit").click();
    });
  }
})();
