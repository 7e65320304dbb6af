import Foundation
import Testing
@testable import OmegaCore
@testable import OmegaModels

/// Configuration files: the seeds' YAML layout, layering of the user's and
/// the project's files, and `omega config show`.
@Suite(.serialized) struct ConfigTests {
    /// The seeds' `config/token_budgets.yaml`, as written there.
    static let seedsYAML = """
        # config/token_budgets.yaml
        budgets:
          global:
            daily_limit: 1000000
            monthly_limit: 25000000
            alert_threshold: 80%

          per_workflow:
            orchestrate: 100000
            sprint: 500000
            code_review: 25000
            test_backend: 15000

          per_model:
            claude-opus: 200000
            claude-sonnet: 500000
            claude-haiku: 1000000

        alerts:
          channels:
            - type: console
              threshold: 70%
            - type: slack
              threshold: 90%
              webhook: $SLACK_WEBHOOK
            - type: email
              threshold: 100%
              to: admin@company.com

        optimizations:
          model_downgrade:
            enabled: true
            trigger: usage > 80%
            from: claude-sonnet
            to: claude-haiku
          caching:
            enabled: true

        """

    static func scratch() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("omega-config-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    @Test func theSeedsYAMLLayoutBecomesBudgets() throws {
        setenv("SLACK_WEBHOOK", "http://127.0.0.1:9/hook", 1)
        let c = try Configuration(text: ConfigTests.seedsYAML, file: URL(fileURLWithPath: "/tmp/token_budgets.yaml"))
        let p = try c.budgetPolicy()
        #expect(p.windows[.day]?[.tokens] == 1_000_000)
        #expect(p.windows[.month]?[.tokens] == 25_000_000)
        #expect(p.thresholds == [80])
        #expect(p.workflows["sprint"]?[.tokens] == 500_000)
        #expect(p.workflows["test_backend"]?[.tokens] == 15_000)
        #expect(p.models["claude-opus"]?[.tokens] == 200_000)
        #expect(p.cache)
        #expect(p.degrade == [DegradeRule(percent: 80, action: .switchModel(from: "claude-sonnet", to: "claude-haiku"))])
        let channels = try #require(try c.alertChannels()).channels
        #expect(channels.count == 3)
        #expect(channels.contains { $0.0 == .console && $0.1 == 70 })
        #expect(channels.contains { $0.0 == .webhook("http://127.0.0.1:9/hook") && $0.1 == 90 })
        #expect(channels.contains { $0.0 == .email(to: "admin@company.com", sendmail: "sendmail -t") && $0.1 == 100 })
        #expect(c.notes.isEmpty, "\(c.notes)")
        // Each value knows its line.
        #expect(c.lookup("budget.workflows.sprint.tokens")?.place == "/tmp/token_budgets.yaml:10")
    }

    /// Seed 000's per-model daily and monthly budgets, per-agent windows and
    /// the total, in the seed 001 YAML layout.
    @Test func yamlLimitsMayHaveWindowsAndATotal() throws {
        let c = try Configuration(text: """
            budgets:
              global:
                total_limit: 5000000
                alert_threshold: 75%
              per_model:
                gpt-4o: {daily: 100000, monthly: 2000000}
                claude-haiku: 300000
              per_agent:
                code-reviewer: {tokens: 100000, weekly: {usd: 2.50}}
            alerts:
              channels:
                - {type: email, threshold: 100%, to: admin@company.com}
            """, file: URL(fileURLWithPath: "/tmp/w.yaml"))
        let p = try c.budgetPolicy()
        #expect(p.total == [.tokens: 5_000_000] && p.thresholds == [75])
        #expect(p.periodic[.day]?[.model]?["gpt-4o"] == [.tokens: 100_000])
        #expect(p.periodic[.month]?[.model]?["gpt-4o"] == [.tokens: 2_000_000])
        #expect(p.models["gpt-4o"] == nil && p.models["claude-haiku"] == [.tokens: 300_000])
        #expect(p.agents["code-reviewer"] == [.tokens: 100_000])
        #expect(p.periodic[.week]?[.agent]?["code-reviewer"] == [.usd: 2_500_000_000_000])
        #expect(p.alerts.channels.contains { $0.channel == .email(to: "admin@company.com", sendmail: "sendmail -t") && $0.threshold == 100 })
        let bad = try Configuration(text: "budgets:\n  per_model:\n    gpt-4o: {dayly: 5}\n", file: URL(fileURLWithPath: "/tmp/b.yaml"))
        do {
            _ = try bad.budgetPolicy()
            Issue.record("dayly accepted")
        } catch {
            #expect("\(error)".contains("budget.models.gpt-4o.dayly: unknown budget unit or window"), "\(error)")
        }
        let toml = try Configuration(text: "[budget.models.\"gpt-4o\"]\ndaily = { seconds = 5 }\n", file: URL(fileURLWithPath: "/tmp/c.toml"))
        #expect(throws: ConfigError.self) { try toml.budgetPolicy() }
    }

    @Test func yamlMistakesNameFileLineAndKey() throws {
        let file = URL(fileURLWithPath: "/tmp/b.yaml")
        func problem(_ text: String) -> String {
            do {
                let c = try Configuration(text: text, file: file)
                _ = try c.budgetPolicy()
                return "accepted"
            } catch { return "\(error)" }
        }
        #expect(problem("budgets:\n  per_workflow:\n    sprint: lots\n") == "/tmp/b.yaml:3: budgets.per_workflow.sprint: expected a number of tokens, got 'lots'")
        #expect(problem("budgets:\n  global:\n    daily_limt: 5\n").hasPrefix("/tmp/b.yaml:3: budgets.global.daily_limt: unknown setting"))
        #expect(problem("budgets:\n  global:\n    alert_threshold: most\n").contains("expected a percentage"))
        #expect(problem("budgets: [1, 2\n").hasPrefix("/tmp/b.yaml:2: not valid YAML"))
        #expect(problem("alerts:\n  channels:\n    - type: pager\n").hasPrefix("/tmp/b.yaml:3: alerts.channels.type: unknown channel type 'pager'"))
        #expect(problem("- just\n- a list\n").contains("expected a mapping of settings"))
        // Other keys pass through as TOML would read them.
        let c = try Configuration(text: "backend: ollama\nbudget:\n  run:\n    usd: 0.25\n", file: file)
        #expect(try c.string("backend") == "ollama")
        #expect(try c.budgetPolicy().run[.usd] == 250_000_000_000)
    }

    @Test func projectFilesLieOverTheUsersAndEachValueKeepsItsPlace() throws {
        let home = try ConfigTests.scratch(), project = try ConfigTests.scratch()
        defer { try? FileManager.default.removeItem(at: home); try? FileManager.default.removeItem(at: project) }
        try FileManager.default.createDirectory(at: home.appendingPathComponent("omega"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: project.appendingPathComponent(".omega"), withIntermediateDirectories: true)
        try "model = \"gpt-4o\"\n[budget.daily]\ntokens = 1000\n[ledger]\npath = \"mine.sqlite\"\n"
            .write(to: home.appendingPathComponent("omega/config.toml"), atomically: true, encoding: .utf8)
        try "[budget.daily]\ntokens = 2000\n".write(to: project.appendingPathComponent(".omega/config.toml"), atomically: true, encoding: .utf8)
        try "budgets:\n  per_workflow:\n    sprint: 300\n"
            .write(to: project.appendingPathComponent(".omega/token_budgets.yaml"), atomically: true, encoding: .utf8)
        let c = try Configuration.load(environment: ["XDG_CONFIG_HOME": home.path], directory: project)
        #expect(c.files.count == 3)
        #expect(try c.budgetPolicy().windows[.day]?[.tokens] == 2000)
        #expect(try c.budgetPolicy().workflows["sprint"]?[.tokens] == 300)
        #expect(try c.string("model") == "gpt-4o")
        #expect(c.lookup("budget.daily.tokens")?.place == project.appendingPathComponent(".omega/config.toml").path + ":2")
        #expect(c.lookup("model")?.place == home.appendingPathComponent("omega/config.toml").path + ":1")
        // A path is relative to the file that set it.
        #expect(try c.ledgerPath() == home.appendingPathComponent("omega/mine.sqlite").path)
        // An explicit file is the whole configuration.
        let only = try Configuration.load(path: project.appendingPathComponent(".omega/config.toml").path,
                                          environment: ["XDG_CONFIG_HOME": home.path], directory: project)
        #expect(try only.string("model") == nil)
    }

    @Test func configShowNamesWhereEachValueCameFrom() throws {
        let dir = try ConfigTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("omega.yaml")
        try "model: claude-sonnet-4-5\nbudgets:\n  global:\n    daily_limit: 5000\n".write(to: config, atomically: true, encoding: .utf8)
        let ledger = dir.appendingPathComponent("l.sqlite").path
        var env = ProcessInfo.processInfo.environment
        env["OMEGA_TOKEN_BUDGET"] = "700"
        env["OMEGA_LEDGER"] = ledger
        env["OMEGA_MODEL"] = nil
        #expect(try runOmega(["tokens", "budget", "sprint", "123"], environment: env).status == 0)
        let shown = try runOmega(["config", "show", "--config", config.path, "--json"], environment: env)
        #expect(shown.status == 0, "\(shown.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any]
        let settings = (object?["settings"] as? [[String: String]]) ?? []
        func source(_ key: String) -> String? { settings.first { $0["key"] == key }?["source"] }
        func value(_ key: String) -> String? { settings.first { $0["key"] == key }?["value"] }
        #expect(value("model") == "\"claude-sonnet-4-5\"" && source("model") == config.path + ":1")
        #expect(value("budget.daily.tokens") == "5000" && source("budget.daily.tokens") == config.path + ":4")
        #expect(value("budget.run.tokens") == "700" && source("budget.run.tokens") == "$OMEGA_TOKEN_BUDGET")
        #expect(source("budget.workflows.sprint.tokens")?.hasPrefix("ledger (omega tokens budget") == true)
        #expect(source("ledger.path") == "$OMEGA_LEDGER")
        #expect(source("backend") == "default")
        // A flag beats the environment.
        let flagged = try runOmega(["config", "show", "--config", config.path, "--budget", "900"], environment: env)
        #expect(flagged.stdout.contains { _ in true } && flagged.stdout.split(separator: "\n").contains { $0.hasPrefix("budget.run.tokens") && $0.contains("900") && $0.hasSuffix("--budget") })
        // The model from the file is the one calls use.
        let run = try runOmega(["--config", config.path, "-e", "(current-model)"], environment: env)
        #expect(run.stdout.contains("claude-sonnet-4-5"), "\(run.stderr)")
    }

    @Test func aConfigurationThatDoesNotParseRunsNothing() throws {
        let dir = try ConfigTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.yaml")
        try "budgets:\n  per_model:\n    gpt-4o: [1\n".write(to: bad, atomically: true, encoding: .utf8)
        let r = try runOmega(["--config", bad.path, "-e", "(display \"ran\")"])
        #expect(r.status == 2)
        #expect(!r.stdout.contains("ran"))
        #expect(r.stderr.contains(bad.path + ":"), "\(r.stderr)")
        let shown = try runOmega(["config", "show", "--config", bad.path])
        #expect(shown.status == 2 && shown.stderr.contains("not valid YAML"))
    }
}
