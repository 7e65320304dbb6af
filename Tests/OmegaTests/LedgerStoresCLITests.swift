import Foundation
import Testing
@testable import OmegaCore
@testable import OmegaModels

/// The ledger's user-facing tools, the same on both stores: the dashboard,
/// budgets set from the command line (a workflow's, a shared one), resets,
/// reports, the kept mode and `--resume`, through the `omega` command on an
/// SQLite file and on a PostgreSQL server.
@Suite(.serialized) struct LedgerStoresCLITests {
    enum Store: String, CaseIterable, Sendable { case sqlite, postgres }

    /// A scratch directory and a ledger of the kind asked for (a server
    /// started for the test when it is PostgreSQL).
    final class Place {
        let scratch: LedgerCLITests.Scratch
        let server: PostgresServer?
        let ledger: String

        init(_ store: Store) throws {
            scratch = try LedgerCLITests.Scratch()
            server = store == .postgres ? try PostgresServer() : nil
            ledger = server?.url ?? scratch.ledger
        }

        var environment: [String: String] { scratch.environment.merging(["OMEGA_LEDGER": ledger]) { $1 } }

        func omega(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
            try runOmega(args, environment: environment)
        }

        /// One text value of a query, on whichever database holds the ledger.
        func value(_ sql: String) throws -> String {
            var out = ""
            if let server {
                let db = try PostgresSQL(url: server.url)
                defer { db.close() }
                try db.query(sql, []) { out = $0.text(0) ?? "" }
            } else {
                // Held while it is queried: a ledger closes its database when it goes.
                let l = try Ledger(path: ledger)
                try withExtendedLifetime(l) { try l.db.query(sql) { out = $0.text(0) ?? "" } }
            }
            return out
        }

        deinit {
            server?.stop()
            scratch.cleanUp()
        }
    }

    @Test(arguments: Store.allCases)
    func dashboardBudgetsResetsReportsAndMode(_ store: Store) throws {
        let p = try Place(store)
        let config = try p.scratch.write("c.toml", "[budget.daily]\ntokens = 20000\n[budget.workflows.sprint]\ntokens = 5000\n")
        let run = try p.omega(["--config", config, "-e",
            "(with-workflow \"sprint\" (lambda () (effect infer.op \"a\" 'model \"gpt-4o\" 'max-tokens 300) (display (budget-spent))))"])
        #expect(run.status == 0, "\(run.stderr)")
        let spent = Int(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        let status = try p.omega(["tokens", "status", "--config", config])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("\(spent) / 20,000 tokens"), "\(status.stdout)")
        #expect(status.stdout.contains("Current Workflow (sprint)") && status.stdout.contains("gpt-4o"), "\(status.stdout)")

        // A workflow's budget set from the command line binds later runs.
        #expect(try p.omega(["tokens", "budget", "sprint", "100"]).status == 0)
        let refused = try p.omega(["--config", config, "-e", "(with-workflow \"sprint\" (lambda () (effect infer.op \"hello there\")))"])
        #expect(refused.status == 3 && refused.stderr.contains("workflow sprint would exceed its limit of 100 tokens"), "\(refused.stderr)")
        #expect(try p.omega(["tokens", "budget"]).stdout.contains("workflow sprint: 100 tokens"))

        // A shared budget: spent by two agents, refused, reset, free again.
        #expect(try p.omega(["tokens", "budget", "--shared", "team", "150"]).status == 0)
        let shared = { (agent: String) in
            try p.omega(["-e", "(with-agent \"\(agent)\" (lambda () (with-shared-budget \"team\" (lambda () (effect infer.op \"q\" 'max-tokens 60)))))"])
        }
        var statuses: [Int32] = []
        for agent in ["a", "b", "c", "d"] { statuses.append(try shared(agent).status) }
        #expect(statuses.first == 0 && statuses.last == 3, "\(statuses)")
        let reset = try p.omega(["tokens", "reset", "--shared", "team", "--yes"])
        #expect(reset.status == 0, "\(reset.stderr)")
        #expect(try shared("e").status == 0)

        // Reports: the same calls, summed by the database.
        let report = try p.omega(["tokens", "report", "--simulated", "--by", "workflow", "--config", config])
        #expect(report.status == 0 && report.stdout.contains("sprint") && report.stdout.contains("Total"), "\(report.stdout)\(report.stderr)")
        let json = try p.omega(["tokens", "report", "--simulated", "--json"])
        let total = (try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["total"] as? [String: Any]
        let rows = Int(try p.value("SELECT COUNT(*) FROM calls")) ?? -1
        #expect(total?["calls"] as? Int == rows, "\(json.stdout)")

        // The kept mode.
        #expect(try p.omega(["tokens", "mode", "economy"]).status == 0)
        #expect(try p.omega(["tokens", "mode"]).stdout.contains("mode: economy"))
        #expect(try p.omega(["tokens", "mode", "standard"]).status == 0)
    }

    @Test(arguments: Store.allCases)
    func resumeAnswersCompletedCallsFromEitherStore(_ store: Store) throws {
        let p = try Place(store)
        let script = try p.scratch.write("steps.scm", """
            (define crash? (member "crash" (command-line)))
            (let loop ((i 0))
              (when (< i 5)
                (when (and crash? (= i 3)) (error "crashed at step" i))
                (display (string-length (effect infer.op (string-append "step " (number->string i)) 'max-tokens 30)))
                (newline)
                (loop (+ i 1))))
            """)
        let crashed = try p.omega([script, "crash"])
        #expect(crashed.status == 1 && crashed.stderr.contains("crashed at step 3"))
        let runID = try p.value("SELECT id FROM runs ORDER BY started DESC LIMIT 1")
        #expect(try p.value("SELECT outcome FROM runs WHERE id = '\(runID)'") == "error")
        let resumed = try p.omega(["--resume", runID, script])
        #expect(resumed.status == 0 && resumed.stderr.contains("resuming \(runID): 3 completed calls"), "\(resumed.stderr)")
        let fresh = try runOmega(["--ledger", "none", script])
        #expect(resumed.stdout == fresh.stdout)
        #expect(try p.value("SELECT COUNT(*) FROM calls WHERE run_id = (SELECT id FROM runs WHERE resumed_from = '\(runID)') AND cache_hit = 1") == "3")
    }
}
