import Foundation
import OmegaModels

/// The service's API keys (`omega serve --keys FILE`): each maps a secret
/// to the agent (and workflow) its calls are charged to, and may set that
/// agent's limits.
///
/// ```toml
/// [keys.reviewer]
/// key = "sk-omega-4f1c…"      # what clients send: Authorization: Bearer …
/// agent = "code-reviewer"      # default: the entry's name
/// workflow = "sprint"          # optional
/// shared = ["team-research"]   # optional: shared budgets every call is also charged to
/// [keys.reviewer.limits]       # optional: the agent's limits
/// tokens = 100000
/// usd = "5.00"
/// ```
public struct ServiceKeys: Sendable {
    /// One key.
    public struct Entry: Sendable, Equatable {
        /// The entry's name in the file (logs and metrics show this, never the secret).
        public var name: String
        /// The secret.
        public var secret: String
        /// Who its calls are charged to.
        public var caller: BudgetService.Caller
        /// The agent's limits, if the entry sets them.
        public var limits: BudgetLimits
    }

    /// Every key, in the file's order.
    public private(set) var entries: [Entry] = []

    /// No keys (with `--no-auth`).
    public init() {}

    /// Reads a keys file; every mistake is a `ConfigError` naming the file, line and key.
    public init(path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(place: path, message: "cannot read the keys file: \(error.localizedDescription)")
        }
        try self.init(toml: text, source: path)
    }

    /// Reads keys from TOML text; `source` names it in errors.
    public init(toml text: String, source: String) throws {
        let root: TOMLTable
        do { root = try TOMLParser.parse(text, source: source) } catch let e as TOMLError {
            throw ConfigError(place: "\(e.source):\(e.line)", message: e.message)
        }
        func place(_ t: TOMLTable, _ k: String) -> String { "\(source):\(t.lines[k] ?? 0)" }
        for k in root.keys where k != "keys" {
            throw ConfigError(place: place(root, k), key: k, message: "unknown key (a keys file has only [keys.NAME] tables)")
        }
        guard case .table(let keys)? = root["keys"], !keys.keys.isEmpty else {
            throw ConfigError(place: source, message: "no keys: add a [keys.NAME] table with key = \"…\" and agent = \"…\"")
        }
        var seen: Set<String> = []
        for name in keys.keys {
            guard case .table(let t)? = keys[name] else {
                throw ConfigError(place: place(keys, name), key: "keys.\(name)", message: "expected a table with key = \"…\"")
            }
            for k in t.keys where !["key", "agent", "workflow", "shared", "limits"].contains(k) {
                throw ConfigError(place: place(t, k), key: "keys.\(name).\(k)", message: "unknown setting (known: key, agent, workflow, shared, limits)")
            }
            guard case .string(let secret)? = t["key"], secret.count >= 16, !secret.contains(where: \.isWhitespace) else {
                throw ConfigError(place: t["key"] == nil ? place(keys, name) : place(t, "key"), key: "keys.\(name).key",
                                  message: "expected a secret of at least 16 characters without spaces (e.g. the output of `openssl rand -hex 24`)")
            }
            guard seen.insert(secret).inserted else {
                throw ConfigError(place: place(t, "key"), key: "keys.\(name).key", message: "this secret is already another entry's")
            }
            func text(_ k: String) throws -> String? {
                guard let v = t[k] else { return nil }
                guard case .string(let s) = v, !s.isEmpty else {
                    throw ConfigError(place: place(t, k), key: "keys.\(name).\(k)", message: "expected a non-empty string")
                }
                return s
            }
            let agent = try text("agent") ?? name
            let workflow = try text("workflow")
            var shared: [String] = []
            if let v = t["shared"] {
                guard case .array(let items) = v, case let names = items.compactMap({ i -> String? in
                    if case .string(let s) = i, !s.isEmpty { return s } else { return nil }
                }), names.count == items.count else {
                    throw ConfigError(place: place(t, "shared"), key: "keys.\(name).shared", message: "expected a list of shared budget names, such as [\"team-research\"]")
                }
                shared = names
            }
            var limits: BudgetLimits = [:]
            if let v = t["limits"] {
                guard case .table(let l) = v else {
                    throw ConfigError(place: place(t, "limits"), key: "keys.\(name).limits", message: "expected a table of limits (tokens = 100000, usd = \"5.00\" …)")
                }
                for u in l.keys {
                    guard let unit = BudgetUnit.named(u), unit != .seconds else {
                        throw ConfigError(place: place(l, u), key: "keys.\(name).limits.\(u)",
                                          message: "unknown budget unit (known: tokens, input_tokens, output_tokens, usd, calls)")
                    }
                    var number = l[u]?.numberText
                    if case .string(let s)? = l[u] { number = s }
                    guard let n = number, let amount = BudgetLimits.internalAmount(unit, n), amount >= 0 else {
                        throw ConfigError(place: place(l, u), key: "keys.\(name).limits.\(u)", message: "expected a non-negative amount")
                    }
                    limits[unit] = amount
                }
            }
            entries.append(Entry(name: name, secret: secret, caller: .init(key: name, agent: agent, workflow: workflow, shared: shared),
                                 limits: limits))
        }
    }

    /// The entry whose secret is `token`, comparing every entry in time
    /// independent of where the strings differ.
    public func entry(for token: String) -> Entry? {
        var found: Entry?
        let given = Array(token.utf8)
        for e in entries {
            let secret = Array(e.secret.utf8)
            var diff = UInt8(secret.count == given.count ? 0 : 1)
            for i in 0..<secret.count { diff |= secret[i] ^ (i < given.count ? given[i] : 0) }
            if diff == 0 { found = e }
        }
        return found
    }
}
