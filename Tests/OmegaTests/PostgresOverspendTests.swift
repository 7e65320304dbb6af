import Foundation
import Testing
@testable import OmegaModels

/// The bar of issue 17: four processes on one PostgreSQL ledger, each making
/// calls of random sizes against one daily budget, one total budget and one
/// shared budget (every other call is made inside `with-shared-budget`), ten seeds;
/// one process is killed (SIGKILL) mid-run in each. The totals never pass
/// the limits, every settled call is one row, the counters equal the rows,
/// and the killed process loses none of the calls it had settled.
@Suite(.serialized) struct PostgresOverspendTests {
    static let script = """
        (define seed (string->number (cadr (command-line))))
        (define (next!) (set! seed (modulo (+ (* seed 1103515245) 12345) 2147483648)) seed)
        (let loop ((i 0))
          (when (< i 40)
            (guard (e ((budget-exceeded? e) #f))
              (let ((call (lambda ()
                            (effect infer.op (string-append "part " (number->string i) " of " (number->string seed))
                                    'max-tokens (+ 10 (modulo (next!) 190))))))
                (if (even? i) (with-shared-budget "team-research" call) (call)))
              (display "settled") (newline) (flush-output-port))
            (loop (+ i 1))))
        """

    @Test func fourProcessesTenSeedsOneKilledNeverOverspend() throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omega-overspend-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("hammer.scm").path
        try PostgresOverspendTests.script.write(toFile: script, atomically: true, encoding: .utf8)
        let config = dir.appendingPathComponent("config.toml").path
        let daily: Int64 = 4000, total: Int64 = 5000, shared: Int64 = 1500
        try "[budget.daily]\ntokens = \(daily)\n[budget.total]\ntokens = \(total)\n[budget.shared.team-research]\ntokens = \(shared)\n[ledger]\nlease = 2\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let admin = try PostgresSQL(url: server.url)
        var figures: [String] = []
        for seed in 1...10 {
            try admin.execute("CREATE DATABASE seed\(seed)")
            let url = server.url.replacingOccurrences(of: "/postgres", with: "/seed\(seed)")
            var env = ProcessInfo.processInfo.environment
            env["OMEGA_LEDGER"] = url
            // The schema once, so that the four start together.
            #expect(try runOmega(["--config", config, "-e", "1"], environment: env).status == 0)
            let processes = try (0..<4).map { k in try startOmega(["--config", config, script, "\(seed * 10 + k)"], environment: env) }
            defer { processes.forEach { $0.cleanUp() } }
            // Kill the first once it has settled a few calls.
            let victim = processes[0]
            let deadline = Date().addingTimeInterval(60)
            while victim.stdout.split(separator: "\n").count < 3 && Date() < deadline && kill(victim.pid, 0) == 0 { usleep(2_000) }
            kill(victim.pid, SIGKILL)
            let settledByVictim = victim.stdout.split(separator: "\n").count
            _ = victim.wait()
            let statuses = processes.dropFirst().map { $0.wait(timeout: 120) }
            #expect(statuses.allSatisfy { $0 == 0 }, "seed \(seed): \(statuses) \(processes.map(\.stderr))")

            let db = try PostgresSQL(url: url)
            func one(_ sql: String, _ values: [SQLiteDatabase.Binding] = []) throws -> Int64 {
                var n: Int64 = -1
                try db.query(sql, values) { r in n = r.int(0) }
                return n
            }
            let charged = try one("SELECT COALESCE(SUM(charged_input + charged_output), 0) FROM calls")
            let reserved = try one("SELECT COALESCE(SUM(input_tokens + output_tokens), 0) FROM reservations")
            let day = try one("SELECT input_tokens + output_tokens FROM window_totals WHERE window_key LIKE 'day:%' AND window_key NOT LIKE '%/%'")
            let counted = try one("SELECT input_tokens + output_tokens FROM window_totals WHERE window_key = 'total'")
            #expect(charged + reserved <= daily, "seed \(seed): charged \(charged) + reserved \(reserved) > \(daily)")
            #expect(day == charged && counted == charged, "seed \(seed): counters \(day)/\(counted), rows \(charged)")
            let sharedRows = try one("SELECT COALESCE(SUM(charged_input + charged_output), 0) FROM calls WHERE shared = 'team-research'")
            let sharedReserved = try one("SELECT COALESCE(SUM(input_tokens + output_tokens), 0) FROM reservations WHERE strpos(counters, E'\\nshared:team-research\\n') > 0")
            let sharedCounter = try one("SELECT COALESCE(MAX(input_tokens + output_tokens), 0) FROM window_totals WHERE window_key = 'shared:team-research'")
            #expect(sharedRows + sharedReserved <= shared, "seed \(seed): shared \(sharedRows) + \(sharedReserved) > \(shared)")
            #expect(sharedCounter == sharedRows && sharedRows > shared / 2, "seed \(seed): shared counter \(sharedCounter), rows \(sharedRows)")
            #expect(try one("SELECT COUNT(*) - COUNT(DISTINCT request_id) FROM calls") == 0, "seed \(seed): a call recorded twice")
            // Every survivor's settled calls are its rows, exactly.
            for p in processes.dropFirst() {
                let printed = Int64(p.stdout.split(separator: "\n").count)
                let rows = try one("SELECT COUNT(*) FROM calls c JOIN runs r ON r.id = c.run_id WHERE r.pid = ? AND c.outcome = 'ok'", [.int(Int64(p.pid))])
                #expect(rows == printed, "seed \(seed): process printed \(printed) settled calls, ledger has \(rows)")
            }
            // The killed process lost none of what it settled.
            let victimRows = try one("SELECT COUNT(*) FROM calls c JOIN runs r ON r.id = c.run_id WHERE r.pid = ? AND c.outcome = 'ok'", [.int(Int64(victim.pid))])
            #expect(victimRows >= Int64(settledByVictim), "seed \(seed): killed after \(settledByVictim) settled calls, ledger has \(victimRows)")
            figures.append("seed \(seed): \(charged)+\(reserved) of \(daily), shared \(sharedRows) of \(shared), killed after \(settledByVictim)/\(victimRows)")
            db.close()
        }
        print("overspend: " + figures.joined(separator: "; "))
    }
}
