/// The command line as the subcommand dispatch reads it: options written
/// before a subcommand (`omega --ledger X tokens status`, `omega --ledger
/// none repl`) move after it, where the subcommand parses them, and
/// `omega help tokens` becomes `omega tokens --help`.
enum ArgumentOrder {
    /// Subcommands, with the names of their own subcommands.
    static let subcommands: [String: Set<String>] = [
        "tokens": ["status", "budget", "mode", "reset", "report"],
        "config": ["show"],
        "count": [], "repl": [], "run": [],
    ]
    /// The top-level options that take no value.
    static let flags: Set<String> = ["--sandbox", "-h", "--help", "--version"]

    static func normalize(_ argv: [String]) -> [String] {
        if argv.first == "help" {
            let rest = Array(argv.dropFirst())
            guard let name = rest.first, subcommands[name] != nil || name == "test" else { return ["--help"] }
            var head = [name]
            if rest.count > 1, subcommands[name]?.contains(rest[1]) == true { head.append(rest[1]) }
            return head + ["--help"]
        }
        var i = 0
        var leading: [String] = []
        while i < argv.count, argv[i].hasPrefix("-"), argv[i] != "-" {
            let option = argv[i]
            // -e evaluates an expression: what follows is not a subcommand.
            if option == "--" || option == "-e" || option == "--eval" { return argv }
            leading.append(option)
            i += 1
            if !flags.contains(option) && !option.contains("=") && i < argv.count {
                leading.append(argv[i])
                i += 1
            }
        }
        guard !leading.isEmpty, i < argv.count, let children = subcommands[argv[i]] else { return argv }
        var head = [argv[i]]
        i += 1
        if i < argv.count, children.contains(argv[i]) {
            head.append(argv[i])
            i += 1
        }
        return head + leading + Array(argv[i...])
    }
}
