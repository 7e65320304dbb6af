import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
@testable import OmegaModels
@testable import OmegaService

/// `omega serve` as a client sees it: a real process on a free port, real
/// HTTP, the Python example client, a clean shutdown.
@Suite(.serialized) struct ServiceTests {
    static let secret = "sk-omega-test-reviewer-0123456789"

    /// A running `omega serve` and its port.
    final class Server: @unchecked Sendable {  // immutable after init
        let process: StartedProcess
        let port: Int
        let dir: URL
        var url: String { "http://127.0.0.1:\(port)" }

        init(config: String, extra: [String] = [], environment: [String: String] = [:]) throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("omega-serve-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try config.write(to: dir.appendingPathComponent("config.toml"), atomically: true, encoding: .utf8)
            try """
                [keys.reviewer]
                key = "\(ServiceTests.secret)"
                agent = "code-reviewer"
                [keys.reviewer.limits]
                tokens = 100000
                """.write(to: dir.appendingPathComponent("keys.toml"), atomically: true, encoding: .utf8)
            var env = ProcessInfo.processInfo.environment
            env["OMEGA_LEDGER"] = dir.appendingPathComponent("ledger.sqlite").path
            for (k, v) in environment { env[k] = v }
            process = try startOmega(["serve", "--listen", "127.0.0.1:0", "--config", dir.appendingPathComponent("config.toml").path,
                                      "--keys", dir.appendingPathComponent("keys.toml").path] + extra, environment: env)
            var found: Int?
            let deadline = Date().addingTimeInterval(60)
            while found == nil && Date() < deadline {
                let marker = "listening on http://127.0.0.1:"
                if let at = process.stderr.range(of: marker) {
                    found = Int(process.stderr[at.upperBound...].prefix { $0.isNumber })
                }
                if kill(process.pid, 0) != 0 { break }
                usleep(20_000)
            }
            guard let found else { throw ServiceFailure("omega serve did not start: \(process.stderr)") }
            port = found
        }

        /// Stops it with SIGTERM; its exit status.
        func stop() -> Int32 {
            kill(process.pid, SIGTERM)
            return process.wait(timeout: 30)
        }

        deinit {
            kill(process.pid, SIGKILL)
            _ = process.wait(timeout: 5)
            process.cleanUp()
            try? FileManager.default.removeItem(at: dir)
        }
    }

    struct ServiceFailure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    /// One HTTP request; status and body.
    static func http(_ method: String, _ url: String, body: String? = nil, key: String? = secret) throws -> (Int, String) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.httpBody = body.map { Data($0.utf8) }
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            box.value = (((response as? HTTPURLResponse)?.statusCode ?? -1), String(decoding: data ?? Data(), as: UTF8.self), error)
            done.signal()
        }.resume()
        guard done.wait(timeout: .now() + 60) == .success else { throw ServiceFailure("\(method) \(url) timed out") }
        if let e = box.value.2 { throw e }
        return (box.value.0, box.value.1)
    }

    final class Box: @unchecked Sendable { var value: (Int, String, Error?) = (0, "", nil) }

    static func rpc(_ server: Server, _ method: String, _ params: String = "{}", key: String? = secret) throws -> [String: Any] {
        let (_, body) = try http("POST", server.url + "/rpc", body: #"{"jsonrpc":"2.0","id":7,"method":"\#(method)","params":\#(params)}"#, key: key)
        return (try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:]
    }

    @Test func jsonRPCMethodsChargeRefuseAndReport() throws {
        let server = try Server(config: "[budget.total]\ntokens = 5000\n")
        let first = try ServiceTests.rpc(server, "tokens.reportUsage",
                                         #"{"agent_id":"code-reviewer","model":"gpt-4o","prompt_tokens":1500,"completion_tokens":800}"#)
        let charged = (first["result"] as? [String: Any])?["charged"] as? [String: Any]
        #expect(charged?["total_tokens"] as? Int == 2300, "\(first)")
        // gpt-4o: $2.50 in, $10 out per million: exact decimal dollars.
        #expect(charged?["cost_usd"] as? String == "0.01175")
        // The seed's refusal, nothing charged.
        let refused = try ServiceTests.rpc(server, "tokens.reportUsage", #"{"model":"gpt-4o","prompt_tokens":2500,"completion_tokens":800}"#)
        let error = refused["error"] as? [String: Any]
        #expect(error?["code"] as? Int == -32001)
        #expect(error?["message"] as? String == "Error: Total budget of 5000 tokens would be exceeded (current: 2300, requested: 3300)")
        // A key cannot charge another agent.
        let other = try ServiceTests.rpc(server, "tokens.reportUsage", #"{"agent_id":"test-gen","prompt_tokens":1,"completion_tokens":1}"#)
        #expect((other["error"] as? [String: Any])?["message"] as? String == "this key charges agent code-reviewer; it cannot report for agent test-gen")
        // Reserve, settle; reserve, release.
        let reserved = try ServiceTests.rpc(server, "tokens.reserve", #"{"model":"gpt-4o","prompt_tokens":100,"max_tokens":200}"#)
        let r = reserved["result"] as? [String: Any]
        let id = try #require(r?["reservation_id"] as? String)
        #expect((r?["reserved"] as? [String: Any])?["total_tokens"] as? Int == 300)
        let settled = try ServiceTests.rpc(server, "tokens.settle", #"{"reservation_id":"\#(id)","prompt_tokens":100,"completion_tokens":50}"#)
        #expect(((settled["result"] as? [String: Any])?["charged"] as? [String: Any])?["total_tokens"] as? Int == 150)
        let again = try ServiceTests.rpc(server, "tokens.settle", #"{"reservation_id":"\#(id)","prompt_tokens":1,"completion_tokens":1}"#)
        #expect((again["error"] as? [String: Any])?["code"] as? Int == -32004)
        let second = try #require((try ServiceTests.rpc(server, "tokens.reserve", #"{"prompt_tokens":10,"max_tokens":10}"#)["result"] as? [String: Any])?["reservation_id"] as? String)
        #expect(try ServiceTests.rpc(server, "tokens.release", #"{"reservation_id":"\#(second)"}"#)["result"] != nil)
        // getBudget: the seed's totals and every scope.
        let budget = try #require(try ServiceTests.rpc(server, "tokens.getBudget")["result"] as? [String: Any])
        #expect(budget["total_used"] as? Int == 2450)
        #expect(budget["remaining_budget"] as? Int == 2550)
        #expect((budget["agent_totals"] as? [String: Any])?["code-reviewer"] as? Int == 2450)
        let scopes = budget["scopes"] as? [[String: Any]] ?? []
        #expect(scopes.contains { $0["kind"] as? String == "agent" && $0["limit"] as? Int == 100000 && $0["used"] as? Int == 2450 })
        // Bad input: named errors, not crashes.
        #expect((try ServiceTests.rpc(server, "tokens.reserve", #"{"max_tokens":-4,"prompt_tokens":1}"#)["error"] as? [String: Any])?["code"] as? Int == -32602)
        #expect((try ServiceTests.rpc(server, "tokens.nothing")["error"] as? [String: Any])?["code"] as? Int == -32601)
        let (_, garbage) = try ServiceTests.http("POST", server.url + "/rpc", body: "{not json")
        #expect(garbage.contains("-32700"))
        // No key, no service; health needs none.
        let (status, _) = try ServiceTests.http("POST", server.url + "/rpc", body: "{}", key: nil)
        #expect(status == 401)
        #expect(try ServiceTests.http("POST", server.url + "/rpc", body: "{}", key: "sk-omega-wrong-key-000000000").0 == 401)
        #expect(try ServiceTests.http("GET", server.url + "/healthz", key: nil).0 == 200)
        let (_, metrics) = try ServiceTests.http("GET", server.url + "/metrics")
        #expect(metrics.contains(#"omega_refusals_total{agent="code-reviewer"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"omega_tokens_total{model="gpt-4o",agent="code-reviewer",direction="input"} 1600"#), "\(metrics)")
        #expect(server.stop() == 0)
    }

    @Test func sharedBudgetsFromKeysAndParamsAreCharged() throws {
        let server = try Server(config: "[budget.shared.team-research]\ntokens = 1000\n")
        let first = try ServiceTests.rpc(server, "tokens.reportUsage",
                                         #"{"model":"gpt-4o","prompt_tokens":600,"completion_tokens":100,"shared_budgets":["team-research"]}"#)
        #expect(first["result"] != nil, "\(first)")
        // The same key, another call under the shared budget: refused by it.
        let refused = try ServiceTests.rpc(server, "tokens.reportUsage",
                                           #"{"model":"gpt-4o","prompt_tokens":300,"completion_tokens":100,"shared_budgets":["team-research"]}"#)
        let message = ((refused["error"] as? [String: Any])?["message"] as? String) ?? ""
        #expect(message.contains("shared budget team-research would exceed its limit of 1000 tokens (current: 700, requested: 400)"), "\(refused)")
        // Without it, the call is not under that budget.
        #expect(try ServiceTests.rpc(server, "tokens.reportUsage", #"{"model":"gpt-4o","prompt_tokens":300,"completion_tokens":100}"#)["result"] != nil)
        let budget = try #require(try ServiceTests.rpc(server, "tokens.getBudget", #"{"shared_budgets":["team-research"]}"#)["result"] as? [String: Any])
        let scopes = budget["scopes"] as? [[String: Any]] ?? []
        #expect(scopes.contains { $0["kind"] as? String == "shared" && $0["used"] as? Int == 700 && $0["limit"] as? Int == 1000 }, "\(scopes)")
        #expect((try ServiceTests.rpc(server, "tokens.getBudget", #"{"shared_budgets":"team"}"#)["error"] as? [String: Any])?["code"] as? Int == -32602)
        #expect(server.stop() == 0)
    }

    /// Two services on one PostgreSQL ledger, eight clients reserving and
    /// settling random sizes through either: the total budget holds exactly.
    @Test func twoServicesOnOnePostgreSQLLedgerShareTheBudget() throws {
        let pg = try PostgresServer()
        defer { pg.stop() }
        let limit = 3000
        let config = "[budget.total]\ntokens = \(limit)\n"
        let servers = try (0..<2).map { _ in try Server(config: config, environment: ["OMEGA_LEDGER": pg.url]) }
        let outcomes = Results(count: 8)
        DispatchQueue.concurrentPerform(iterations: 8) { k in
            var settled = 0, refused = 0
            var seed = UInt64(k + 1) &* 2654435761
            for _ in 0..<30 {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                let maxTokens = 20 + Int(seed >> 33) % 150
                let server = servers[(k + settled + refused) % 2]
                guard let r = try? ServiceTests.rpc(server, "tokens.reserve", #"{"prompt_tokens":10,"max_tokens":\#(maxTokens)}"#) else { continue }
                guard let id = (r["result"] as? [String: Any])?["reservation_id"] as? String else { refused += 1; continue }
                let used = maxTokens / 2
                _ = try? ServiceTests.rpc(server, "tokens.settle", #"{"reservation_id":"\#(id)","prompt_tokens":10,"completion_tokens":\#(used)}"#)
                settled += 1
            }
            outcomes.set(k, settled)
        }
        let db = try PostgresSQL(url: pg.url)
        defer { db.close() }
        var charged: Int64 = -1, counter: Int64 = -1, rows: Int64 = -1
        try db.query("SELECT COALESCE(SUM(charged_input + charged_output), 0), COUNT(*) FROM calls WHERE outcome = 'ok'", []) { r in
            charged = r.int(0); rows = r.int(1)
        }
        try db.query("SELECT input_tokens + output_tokens FROM window_totals WHERE window_key = 'total'", []) { r in counter = r.int(0) }
        let settled = outcomes.values.reduce(0, +)
        #expect(charged <= Int64(limit) && charged > Int64(limit) / 2, "charged \(charged) of \(limit)")
        #expect(counter == charged && rows == Int64(settled), "counter \(counter), rows \(rows), settled \(settled)")
        for s in servers { #expect(s.stop() == 0) }
    }

    @Test func chatCompletionsAreMeteredAndRefusedWith429() throws {
        let server = try Server(config: "[budget.total]\ntokens = 400\n")
        let body = #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say something about budgets."}],"max_tokens":100}"#
        let (status, answer) = try ServiceTests.http("POST", server.url + "/v1/chat/completions", body: body)
        #expect(status == 200, "\(answer)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any])
        #expect(json["object"] as? String == "chat.completion")
        let usage = try #require(json["usage"] as? [String: Any])
        let used = (usage["total_tokens"] as? Int) ?? 0
        #expect(used > 0)
        // Streaming: chunks, the usage, [DONE].
        let streamed = #"{"messages":[{"role":"user","content":"Again."}],"max_tokens":50,"stream":true,"stream_options":{"include_usage":true}}"#
        let (s2, events) = try ServiceTests.http("POST", server.url + "/v1/chat/completions", body: streamed)
        #expect(s2 == 200)
        #expect(events.contains("chat.completion.chunk") && events.contains("\"usage\"") && events.hasSuffix("data: [DONE]\n\n"), "\(events)")
        // Past the budget: 429 with an OpenAI-style error, and nothing sent.
        var refused = (0, "")
        for _ in 0..<10 {
            refused = try ServiceTests.http("POST", server.url + "/v1/chat/completions", body: body)
            if refused.0 != 200 { break }
        }
        #expect(refused.0 == 429, "\(refused)")
        #expect(refused.1.contains(#""code":"budget_exceeded""#) && refused.1.contains("Total budget of 400 tokens would be exceeded"))
        let budget = try #require(try ServiceTests.rpc(server, "tokens.getBudget")["result"] as? [String: Any])
        #expect((budget["total_used"] as? Int ?? 1000) <= 400)
        #expect(server.stop() == 0)
    }

    @Test func thePythonClientReservesCallsSettlesAndHearsEvents() throws {
        let server = try Server(config: "[budget.total]\ntokens = 600\n")
        let r = try runProcess(URL(fileURLWithPath: "/usr/bin/env"),
                               ["python3", packageRoot.appendingPathComponent("examples/service/agent.py").path, server.url, ServiceTests.secret],
                               environment: ProcessInfo.processInfo.environment, timeout: 120)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        let calls = lines.filter { $0.hasPrefix("call ") }.count
        #expect(calls >= 5, "\(r.stdout)")
        #expect(lines.contains { $0.hasPrefix("refused: Error: Total budget of 600 tokens would be exceeded") }, "\(r.stdout)")
        #expect(lines.filter { $0.hasPrefix("event tokens.updated: total_used=") }.count == calls, "\(r.stdout)")
        let final = lines.last { $0.hasPrefix("budget: total_used=") }
        let total = final.flatMap { Int($0.dropFirst("budget: total_used=".count).prefix { $0.isNumber }) } ?? -1
        #expect(total > 0 && total <= 600, "\(r.stdout)")
        #expect(server.stop() == 0)
    }

    @Test func shutdownChargesOpenReservationsAtTheirWorstCaseAndEndsTheRun() throws {
        let server = try Server(config: "")
        let ledger = server.dir.appendingPathComponent("ledger.sqlite").path
        _ = try ServiceTests.rpc(server, "tokens.reserve", #"{"model":"gpt-4o","prompt_tokens":100,"max_tokens":400}"#)
        #expect(server.stop() == 0)
        #expect(server.process.stderr.contains("still open at shutdown: charged at its worst case, 500 tokens"), "\(server.process.stderr)")
        let store = try Ledger(path: ledger)
        #expect(try store.windowTotal("total").tokens == 500)
        let run = try #require(try store.run("run-"))
        #expect(run.outcome == "ok")
    }

    @Test func badKeysAndAddressesAreRefusedAtStart() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omega-serve-bad-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let keys = dir.appendingPathComponent("keys.toml").path
        try "[keys.a]\nkey = \"short\"\n".write(toFile: keys, atomically: true, encoding: .utf8)
        let short = try runOmega(["serve", "--keys", keys, "--listen", "127.0.0.1:0"])
        #expect(short.status == 2)
        #expect(short.stderr.contains("\(keys):2") && short.stderr.contains("keys.a.key"), "\(short.stderr)")
        let none = try runOmega(["serve", "--listen", "127.0.0.1:0"])
        #expect(none.status == 2 && none.stderr.contains("needs API keys"), "\(none.stderr)")
        let open = try runOmega(["serve", "--no-auth", "--listen", "0.0.0.0:0"])
        #expect(open.status == 2 && open.stderr.contains("loopback"), "\(open.stderr)")
        let port = try runOmega(["serve", "--no-auth", "--listen", "127.0.0.1:99999"])
        #expect(port.status == 2 && port.stderr.contains("HOST:PORT"), "\(port.stderr)")
    }

    @Test func keysFileParsing() throws {
        let keys = try ServiceKeys(toml: """
            [keys.reviewer]
            key = "sk-omega-aaaaaaaaaaaaaaaa"
            agent = "code-reviewer"
            workflow = "sprint"
            [keys.reviewer.limits]
            tokens = 1000
            usd = "2.50"
            [keys.linter]
            key = "sk-omega-bbbbbbbbbbbbbbbb"
            shared = ["team-research", "lint"]
            """, source: "keys.toml")
        #expect(keys.entry(for: "sk-omega-aaaaaaaaaaaaaaaa")?.caller == BudgetService.Caller(key: "reviewer", agent: "code-reviewer", workflow: "sprint"))
        #expect(keys.entry(for: "sk-omega-aaaaaaaaaaaaaaaa")?.limits == [.tokens: 1000, .usd: 2_500_000_000_000])
        #expect(keys.entry(for: "sk-omega-bbbbbbbbbbbbbbbb")?.caller.agent == "linter")
        #expect(keys.entry(for: "sk-omega-bbbbbbbbbbbbbbbb")?.caller.shared == ["team-research", "lint"])
        #expect(throws: ConfigError.self) { _ = try ServiceKeys(toml: "[keys.a]\nkey = \"sk-omega-aaaaaaaaaaaaaaaa\"\nshared = \"x\"\n", source: "k") }
        #expect(keys.entry(for: "sk-omega-aaaaaaaaaaaaaaa") == nil)
        #expect(keys.entry(for: "") == nil)
        #expect(throws: ConfigError.self) {
            _ = try ServiceKeys(toml: "[keys.a]\nkey = \"sk-omega-aaaaaaaaaaaaaaaa\"\n[keys.b]\nkey = \"sk-omega-aaaaaaaaaaaaaaaa\"\n", source: "k")
        }
        #expect(throws: ConfigError.self) { _ = try ServiceKeys(toml: "[keys.a]\nkey = \"sk-omega-aaaaaaaaaaaaaaaa\"\nagnet = \"x\"\n", source: "k") }
    }
}
