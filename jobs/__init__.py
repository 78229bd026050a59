"""Background jobs: periodic work that belongs to no HTTP request (sealing
the hash chain, expiring holds, orders and adjustment requests, escalating
deadlines, removing stray photos). Each API process runs them
(``jobs.background``); each is also a CLI command for cron."""
