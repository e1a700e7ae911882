-- bench/soak's wrk script: a fixed number of requests, rotating over the
-- endpoints in SOAK_PATHS (comma-separated).  wrk has no request count (-n), so each thread
-- stops itself once it has its SOAK_PER_THREAD responses and says so on
-- stdout; wrk itself still waits out its -d, so bench/soak interrupts it
-- (SIGINT) once every thread has.  Every answer outside 2xx is counted as
-- bad.  done() prints one line bench/soak reads.

local paths = {}
for p in string.gmatch(os.getenv("SOAK_PATHS") or "/api/v1/kernel", "[^,]+") do
        table.insert(paths, p)
end
local threads = {}
local limit = tonumber(os.getenv("SOAK_PER_THREAD") or "1000")

function setup(thread)
        thread:set("id", #threads)
        table.insert(threads, thread)
end

function init(args)
        responses = 0
        bad = 0
        -- Threads start at different endpoints, so the mix is even from
        -- the first request.
        n = id
end

function request()
        n = n + 1
        return wrk.format("GET", paths[(n % #paths) + 1])
end

function response(status, headers, body)
        responses = responses + 1
        if status < 200 or status > 299 then
                bad = bad + 1
        end
        if responses == limit then
                io.write("SOAK-THREAD-DONE\n")
                io.flush()
                wrk.thread:stop()
        end
end

function done(summary, latency, requests)
        local r, b = 0, 0
        for _, t in ipairs(threads) do
                r = r + t:get("responses")
                b = b + t:get("bad")
        end
        local e = summary.errors
        io.write(string.format("SOAK responses=%d non2xx=%d connect=%d read=%d write=%d " ..
                               "timeout=%d duration_us=%d p99_us=%d\n",
                               r, b, e.connect, e.read, e.write, e.timeout, summary.duration,
                               latency:percentile(99)))
end
