import Foundation
import Testing
@testable import OmegaCore
@testable import OmegaModels

/// No form of a configured key leaves the process (issue 14): misbehaving
/// servers echo it in every way they can, through every path Omega prints,
/// stores or records.
@Suite(.serialized) struct SecretsTests {
    static let openAIKey = "sk-SECRET-123-openai-abcdef"
    static let anthropicKey = "sk-ant-SECRET-456-anthropic"

    static func environment(_ server: StubServer, ledger: String = "none") -> [String: String] {
        ["OPENAI_API_KEY": openAIKey, "ANTHROPIC_API_KEY": anthropicKey, "OPENAI_BASE_URL": server.baseURL + "/v1",
         "ANTHROPIC_BASE_URL": server.baseURL, "OMEGA_LEDGER": ledger, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? ""]
    }

    static func leaks(_ text: String) -> [String] {
        var found: [String] = []
        for key in [openAIKey, anthropicKey] {
            let forms = [key, key.lowercased(), key.uppercased(), key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key,
                         String(key.prefix(14))]
            for f in forms where text.contains(f) { found.append(f) }
        }
        return found
    }

    @Test func unitScrubbingCoversEveryForm() {
        Secrets.register(Self.openAIKey)
        let k = Self.openAIKey
        for text in ["Bearer \(k)", "bearer \(k.lowercased())", k.uppercased(),
                     "key=\(k.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")",
                     "key=" + k.utf8.map { String(format: "%%%02x", $0) }.joined(),
                     String(repeating: "A", count: 20) + "Bearer " + String(k.prefix(15))] {
            let s = Secrets.scrub(text)
            #expect(Self.leaks(s).isEmpty && s.contains(Secrets.mask), "\(text) → \(s)")
        }
        #expect(Secrets.scrub("nothing secret here") == "nothing secret here")
    }

    @Test func errorPathsNeverPrintTheKey() throws {
        let k = Self.openAIKey
        let long = String(repeating: "A", count: 290) + "Bearer " + k + " and more"
        let replies: [(String, StubServer.Reply)] = [
            ("a stream error", .init(headers: [("content-type", "text/event-stream")],
                                     chunks: ["data: {\"error\":{\"message\":\"bad header Authorization: Bearer \(k)\"}}\n\n"])),
            ("a plain body cut at 300", .init(status: 400, headers: [("content-type", "text/plain")], chunks: [long])),
            ("a lower-case echo", .init(status: 400, chunks: ["{\"error\":{\"message\":\"got \(k.lowercased())\"}}"])),
            ("a percent-encoded echo", .init(status: 400, chunks: ["{\"error\":\"got \(k.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")\"}"])),
        ]
        for (what, reply) in replies {
            let server = try StubServer([reply])
            defer { server.close() }
            let stream = what == "a stream error" ? "'stream #t" : ""
            let r = try runOmega(["--backend", "openai", "-e", "(effect infer.op \"hi\" \(stream))"], environment: Self.environment(server))
            #expect(r.status == 1, "\(what): \(r.stderr)")
            #expect(Self.leaks(r.stdout + r.stderr).isEmpty, "\(what) printed \(Self.leaks(r.stderr)): \(r.stderr)")
            #expect(r.stderr.contains("[key]"), "\(what): \(r.stderr)")
        }
        // Anthropic's stream error event.
        let server = try StubServer([.init(headers: [("content-type", "text/event-stream")],
                                           chunks: ["event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"x-api-key: \(Self.anthropicKey)\"}}\n\n"])])
        defer { server.close() }
        let r = try runOmega(["--backend", "anthropic", "--model", "claude-haiku-4-5", "-e", "(effect infer.op \"hi\" 'stream #t)"],
                             environment: Self.environment(server))
        #expect(r.status == 1 && Self.leaks(r.stderr).isEmpty && r.stderr.contains("[key]"), "\(r.stderr)")
    }

    /// A redirect to another origin gets no credentials: it is not followed.
    @Test func credentialsNeverFollowARedirect() throws {
        let elsewhere = try StubServer([.init(chunks: ["{}"])])
        defer { elsewhere.close() }
        for backend in ["openai", "anthropic"] {
            let server = try StubServer([.init(status: 307, headers: [("location", elsewhere.baseURL + "/steal")], chunks: [""])])
            defer { server.close() }
            let r = try runOmega(["--backend", backend, "--model", backend == "openai" ? "gpt-4o" : "claude-haiku-4-5", "-e",
                                  "(effect infer.op \"hi\")"], environment: Self.environment(server))
            #expect(r.status == 1 && r.stderr.contains("redirect (307)"), "\(backend): \(r.stderr)")
        }
        #expect(elsewhere.requests.isEmpty, "the other origin was contacted")
    }

    /// A reply whose model field is the key: not in the ledger, the cassette, status or report.
    @Test func aKeyInAReplyIsNotStored() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omega-secret-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let ledger = dir.appendingPathComponent("l.sqlite").path, cassette = dir.appendingPathComponent("c.jsonl").path
        let server = try StubServer([.init(chunks: ["""
            {"id":"c","model":"\(Self.openAIKey)","choices":[{"index":0,"message":{"role":"assistant","content":"your key is \(Self.openAIKey)"},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":5,"completion_tokens":5}}
            """])])
        defer { server.close() }
        let env = Self.environment(server, ledger: ledger)
        let r = try runOmega(["--backend", "openai", "--record", cassette, "-e", "(display (effect infer.op \"hi\"))"], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.leaks(r.stdout + r.stderr).isEmpty, "\(r.stdout)")
        let recorded = (try? String(contentsOfFile: cassette, encoding: .utf8)) ?? ""
        #expect(!recorded.isEmpty && Self.leaks(recorded).isEmpty, "\(recorded)")
        let db = try SQLiteDatabase(path: ledger)
        var rows = ""
        try db.query("SELECT model || ' ' || COALESCE(served_model, '') || ' ' || COALESCE(answer, '') FROM calls") { rows += $0.text(0) ?? "" }
        #expect(!rows.isEmpty && Self.leaks(rows).isEmpty, "\(rows)")
        for args in [["tokens", "status"], ["tokens", "report", "--simulated"]] {
            let out = try runOmega(args, environment: env)
            #expect(Self.leaks(out.stdout + out.stderr).isEmpty, "\(args)")
        }
    }
}
