import Foundation
import Testing

/// `omega count` and the configuration flags, run as a process.
@Suite(.serialized) struct CountCommandTests {
    func file(_ text: String, _ ext: String = "txt") throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("omega-count-\(UUID().uuidString).\(ext)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func countsStandardInputAndFiles() throws {
        let r = try runOmega(["count"], stdin: "hello world")
        #expect(r.status == 0)
        #expect(r.stdout == "2\n")
        let a = try file("hello world"), b = try file("The quick brown fox.")
        defer { try? FileManager.default.removeItem(atPath: a); try? FileManager.default.removeItem(atPath: b) }
        let two = try runOmega(["count", "--encoding", "cl100k_base", a, b])
        #expect(two.stdout == "2\t\(a)\n5\t\(b)\n7\ttotal\n")
        let ids = try runOmega(["count", "--model", "gpt-4", "--ids", a])
        #expect(ids.stdout == "15339 1917\n")
    }

    @Test func jsonIsMachineReadable() throws {
        let r = try runOmega(["count", "--model", "gpt-4o", "--json"], stdin: "hello world")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(object?["total"] as? Int == 2)
        #expect(object?["encoding"] as? String == "o200k_base")
        #expect(object?["exact"] as? Bool == true)
        #expect(object?["model"] as? String == "gpt-4o")
    }

    @Test func otherVendorsAndSpecialTokensAreLabelled() throws {
        let r = try runOmega(["count", "--model", "claude-sonnet-4-5"], stdin: "hello world")
        #expect(r.stdout == "~2\n")
        #expect(r.stderr.contains("estimate: claude-sonnet-4-5 has its own tokenizer"))
        let ordinary = try runOmega(["count", "-e", "cl100k_base"], stdin: "<|endoftext|>")
        let special = try runOmega(["count", "-e", "cl100k_base", "--allow-special"], stdin: "<|endoftext|>")
        #expect(Int(ordinary.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 > 1)
        #expect(special.stdout == "1\n")
    }

    @Test func withoutRankFilesCountsAreEstimatesWithAHint() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("omega-nohome-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let env = ["HOME": home.path, "TMPDIR": home.path, "PATH": "/usr/bin:/bin"]
        let r = try runOmega(["count"], stdin: "twelve chars", environment: env)
        #expect(r.status == 0)
        #expect(r.stdout == "~3\n")
        #expect(r.stderr.contains("characters ÷ 4"))
        #expect(r.stderr.contains("scripts/setup"))
    }

    @Test func badUsageAndMissingFiles() throws {
        let bad = try runOmega(["count", "--encoding", "p50k_base"], stdin: "x")
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("unknown encoding 'p50k_base'"))
        #expect(try runOmega(["count", "--model", "gpt-4o", "--encoding", "cl100k_base"], stdin: "x").status == 2)
        let missing = try runOmega(["count", "/no/such/file.txt"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("omega count: cannot read /no/such/file.txt"))
        #expect(try runOmega(["count", "--help"]).stdout.contains("tiktoken"))
    }

    @Test func configurationSetsPricesAndBadConfigurationIsNamed() throws {
        let config = try file("""
            [prices.models."team-model"]
            input = 1
            output = 2
            """, "toml")
        defer { try? FileManager.default.removeItem(atPath: config) }
        let r = try runOmega(["--config", config, "-e", "(estimate-cost \"team-model\" 1000000 1000000)"])
        #expect(r.stdout == "3\n")
        let env = ProcessInfo.processInfo.environment.merging(["OMEGA_CONFIG": config]) { $1 }
        #expect(try runOmega(["-e", "(format-usd (estimate-cost 'team-model 500000 0))"], environment: env).stdout == "\"$0.50\"\n")

        let broken = try file("[prices.models.x]\ninput = 1\noutput = [\n", "toml")
        defer { try? FileManager.default.removeItem(atPath: broken) }
        let b = try runOmega(["--config", broken, "-e", "1"])
        #expect(b.status == 2)
        #expect(b.stderr.contains("\(broken):3:"))
        let none = try runOmega(["--config", "/no/such/config.toml", "-e", "1"])
        #expect(none.status == 2)
        #expect(none.stderr.contains("/no/such/config.toml: the configuration file does not exist"))
    }

    @Test func modelFlagSetsTheDefaultModel() throws {
        let r = try runOmega(["--model", "claude-haiku-4-5", "-e", "(token-count-exact?)"])
        #expect(r.stdout == "#f\n")
        let env = ProcessInfo.processInfo.environment.merging(["OMEGA_MODEL": "gpt-4o"]) { $1 }
        #expect(try runOmega(["-e", "(token-count-exact?)"], environment: env).stdout == "#t\n")
    }
}
