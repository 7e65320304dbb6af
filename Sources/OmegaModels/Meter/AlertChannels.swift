import COmegaShims
import Foundation
import OmegaCore

/// A warning or alert the meter raised, with what a person needs to act on it.
public struct BudgetAlert: Sendable {
    /// `threshold`, `moderate`, `review`, `critical`, `excess`, `emergency`, `degrade`.
    public var kind: String
    /// The budget it is about.
    public var scope: String
    /// What happened, for a person.
    public var message: String
    /// For threshold alerts: the unit, usage and limit.
    public var unit: BudgetUnit?
    /// Usage in the unit's internal scale.
    public var used: Int64?
    /// The limit in the same scale.
    public var limit: Int64?
    /// Percentage of the limit used (100 for alerts that are not about one).
    public var percent: Double
    /// What to do about it.
    public var recommendation: String
    /// When it was raised.
    public var time: Date
    /// The run that raised it.
    public var runID: String
    /// More environment for a command channel.
    var extra: [String: String] = [:]

    /// The alert as JSON fields (the file channel's line, the command's `$OMEGA_ALERT_JSON`).
    public var fields: [String: Any] {
        var f: [String: Any] = ["kind": kind, "scope": scope, "message": message, "percent": (percent * 10).rounded() / 10,
                                "recommendation": recommendation, "time": ISO8601DateFormatter().string(from: time),
                                "run": runID]
        if let u = unit, let used, let limit {
            f["unit"] = u.rawValue
            f["used"] = BudgetExceeded.plain(u, used)
            f["limit"] = BudgetExceeded.plain(u, limit)
            f["remaining"] = BudgetExceeded.plain(u, max(0, limit.adding(saturating: -used)))
        }
        return f
    }

    /// The seeds' alert text: scope, usage, limit, percentage, remaining, recommendation.
    public var text: String {
        var t = "TOKEN BUDGET ALERT\n\nScope: \(scope)\n"
        if let u = unit, let used, let limit {
            let usedPercent = Int(Double(used) * 100 / Double(max(limit, 1)))
            t += "Current Usage: \(BudgetExceeded.plain(u, used)) / \(BudgetExceeded.plain(u, limit)) (\(usedPercent)%)\n"
            t += "Remaining: \(BudgetExceeded.plain(u, max(0, limit.adding(saturating: -used)))) \(u == .usd || u == .seconds ? "" : u.shortName)\n"
            if kind != "threshold" { t += "\n\(message)\n" }
        } else {
            t += "\(message)\n"
        }
        return t + "\nRecommendation:\n- \(recommendation)"
    }

    /// What to do, by how full the scope is (seeds/001).
    static func recommendation(percent: Double) -> String {
        if percent >= 90 { return "switch to a cheaper model for the remaining tasks, or request a budget increase" }
        if percent >= 80 { return "enable caching for repeated prompts, and shorten outputs (lower max-tokens)" }
        return "review the remaining work against the budget; consider lower budgets for routine workflows"
    }
}

/// Where alerts go, each channel from its own percentage on (seeds/001):
///
///     [alerts.console]  threshold = 70
///     [alerts.file]     path = "alerts.jsonl", threshold = 80
///     [alerts.webhook]  url = "https://hooks.slack.com/…", threshold = 90
///     [alerts.command]  run = "notify-send budget", threshold = 90
///     [alerts.email]    to = "admin@company.com", threshold = 100
///
/// Without an `[alerts]` table every alert goes to the console only.
public struct AlertChannels: Sendable {
    /// Where an alert can go.
    public enum Channel: Sendable, Equatable {
        case console
        /// Appends one JSON object per line.
        case file(String)
        /// Posts Slack-compatible JSON: `{"text": …}`.
        case webhook(String)
        /// Runs with `/bin/sh -c`; the alert is in `$OMEGA_ALERT_MESSAGE` and `$OMEGA_ALERT_JSON`.
        case command(String)
        /// Mails the alert's text to `to` through a sendmail-compatible
        /// program (`sendmail -t` unless configured), which reads the message on its input.
        case email(to: String, sendmail: String)
    }
    /// Each channel with the percentage from which it takes alerts.
    public var channels: [(channel: Channel, threshold: Double)] = [(.console, 0)]

    /// The console only.
    public init() {}

    /// Delivers `alert` to every channel whose threshold it reaches;
    /// `console` writes with `report`. Failures are reported, never thrown.
    func deliver(_ alert: BudgetAlert, report: (String) -> Void) {
        for (channel, threshold) in channels where alert.percent >= threshold {
            switch channel {
            case .console:
                // A refusal reaches the person at the console anyway: as the
                // stop message, the approval question, or the condition the
                // program handles.
                if alert.kind != "refused" { report("omega: budget: \(alert.message)") }
            case .file(let path):
                var fields = alert.fields
                fields["text"] = alert.text
                guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) else { continue }
                let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
                guard fd >= 0 else {
                    report("omega: budget: cannot write the alert file \(path): \(String(cString: strerror(errno)))")
                    continue
                }
                let line = [UInt8](data) + [0x0A]
                _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                close(fd)
            case .webhook(let url):
                guard let body = try? JSONSerialization.data(withJSONObject: ["text": alert.text, "omega": alert.fields],
                                                             options: [.sortedKeys]) else { continue }
                AlertChannels.deliveries.enter()
                Task(executorPreference: EffectExecutor.shared) {
                    defer { AlertChannels.deliveries.leave() }
                    var transport = HTTPTransport()
                    transport.attempts = 2
                    do {
                        _ = try await transport.postJSON(url, headers: [], body: body, timeout: 10) { status, _ in "HTTP \(status)" }
                    } catch {
                        // Said, not swallowed; only the host is named (a webhook's path is often its secret).
                        let host = URL(string: url)?.host ?? "the configured URL"
                        let why = (error as? BackendError)?.message ?? "\(error)"
                        FileHandle.standardError.write(Data("omega: budget: the alert webhook at \(host) did not take the \(alert.kind) alert: \(why)\n".utf8))
                    }
                }
            case .command(let command):
                AlertChannels.run(command, alert)
            case .email(let to, let sendmail):
                let program = String(sendmail.prefix { $0 != " " })
                let found = program.contains("/") ? FileManager.default.isExecutableFile(atPath: program)
                    : (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin")
                        .split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(program)") }
                    || FileManager.default.isExecutableFile(atPath: "/usr/sbin/\(program)")
                guard found else {
                    report("omega: budget: cannot mail the alert to \(to): \(program) is not installed (set [alerts.email] sendmail to a sendmail-compatible program)")
                    continue
                }
                var mailed = alert
                mailed.extra["OMEGA_ALERT_MAIL"] = "To: \(to)\nSubject: Omega budget alert: \(alert.scope) (\(alert.kind))\n\n\(alert.text)\n"
                // The message goes in through a pipe the shell opens, not the command line.
                AlertChannels.run("printf '%s' \"$OMEGA_ALERT_MAIL\" | PATH=\"$PATH:/usr/sbin:/sbin\" \(sendmail)", mailed)
            }
        }
    }

    /// Webhook posts still on their way.
    static let deliveries = DispatchGroup()

    /// Waits (at most `timeout` seconds) for webhook posts still on their
    /// way: a script's last alert must not be lost because the process ended.
    public static func waitForDeliveries(timeout: Double = 10) {
        _ = deliveries.wait(timeout: .now() + timeout)
    }

    /// Starts `/bin/sh -c command` without waiting for it; a thread reaps it.
    static func run(_ command: String, _ alert: BudgetAlert) {
        var env = ProcessInfo.processInfo.environment
        env["OMEGA_ALERT_MESSAGE"] = alert.message
        env["OMEGA_ALERT_TEXT"] = alert.text
        env["OMEGA_ALERT_KIND"] = alert.kind
        env["OMEGA_ALERT_SCOPE"] = alert.scope
        env["OMEGA_ALERT_PERCENT"] = String(Int(alert.percent))
        for (k, v) in alert.extra { env[k] = v }
        if let data = try? JSONSerialization.data(withJSONObject: alert.fields, options: [.sortedKeys]) {
            env["OMEGA_ALERT_JSON"] = String(decoding: data, as: UTF8.self)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        omega_spawn_close_from(&actions, 3)
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(command), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/bin/sh", &actions, nil, argv, envp) == 0 else {
            FileHandle.standardError.write(Data("omega: budget: cannot start the alert command: \(String(cString: strerror(errno)))\n".utf8))
            return
        }
        let child = pid
        Thread.detachNewThread {
            var status: Int32 = 0
            _ = waitpid(child, &status, 0)
        }
    }
}
