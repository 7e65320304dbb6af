import Foundation

/// What a script may touch. A host that runs other people's scripts turns
/// off what it does not give them; anything off raises
/// `permission denied: file read (capabilities)` at the procedure that tried.
/// With the step limit, the memory limit and the time limit, an untrusted
/// script ends, stays within memory and touches nothing it was not given.
public struct Capabilities: OptionSet, Sendable, Hashable {
    /// The set as bits (`OptionSet`).
    public let rawValue: Int
    /// The set with these bits.
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// `open-input-file`, `with-input-from-file`, `file-exists?`…
    public static let fileRead = Capabilities(rawValue: 1 << 0)
    /// `open-output-file`, `with-output-to-file`, `delete-file`…
    public static let fileWrite = Capabilities(rawValue: 1 << 1)
    /// `get-environment-variable`.
    public static let environment = Capabilities(rawValue: 1 << 2)
    /// `exit`, `emergency-exit`.
    public static let exit = Capabilities(rawValue: 1 << 3)
    /// `load`, `include`.
    public static let load = Capabilities(rawValue: 1 << 4)
    /// Model calls (`effect`): the network, and spend.
    public static let effects = Capabilities(rawValue: 1 << 5)
    /// `current-second`, `current-jiffy`.
    public static let clock = Capabilities(rawValue: 1 << 6)

    /// Everything: the `omega` command's default.
    public static let all: Capabilities = [.fileRead, .fileWrite, .environment, .exit, .load, .effects, .clock]
    /// `--sandbox`: model calls and the clock only.
    public static let sandbox: Capabilities = [.effects, .clock]

    /// Names as the command line and configuration write them.
    public static let names: [(String, Capabilities)] = [
        ("file-read", .fileRead), ("file-write", .fileWrite), ("environment", .environment), ("exit", .exit),
        ("load", .load), ("effects", .effects), ("clock", .clock),
    ]

    /// `file-read,effects` → the set; nil when a name is unknown.
    public static func parse(_ list: [String]) -> Capabilities? {
        var c: Capabilities = []
        for name in list {
            let n = name.trimmingCharacters(in: .whitespaces).lowercased()
            if n.isEmpty { continue }
            if n == "all" { c.formUnion(.all); continue }
            guard let found = names.first(where: { $0.0 == n })?.1 else { return nil }
            c.formUnion(found)
        }
        return c
    }

    /// `file read` (for messages).
    var label: String {
        (Capabilities.names.first { $0.1 == self }?.0 ?? "this").replacingOccurrences(of: "-", with: " ")
    }
}

extension Interpreter {
    /// Throws `permission denied` unless the host allowed `capability`.
    package func require(_ capability: Capabilities, _ procedure: String) throws {
        guard !capabilities.contains(capability) else { return }
        var e = SchemeError(.error, "permission denied: \(capability.label) (capabilities)")
        e.procedure = procedure
        throw e
    }
}
