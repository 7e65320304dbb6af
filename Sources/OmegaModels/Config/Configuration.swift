import Foundation
import OmegaCore

/// Omega's configuration, read once and asked typed questions. Every error
/// names the file, the line and the key.
///
/// Where it comes from: `--config FILE` or `$OMEGA_CONFIG` names the whole
/// configuration (TOML, or YAML when it ends in `.yaml`/`.yml`). Otherwise
/// these layers, each over the ones before: the user's
/// `$XDG_CONFIG_HOME/omega/config.toml` (default `~/.config/omega`) and
/// `token_budgets.yaml` there, then the project's `.omega/config.toml`,
/// `.omega/token_budgets.yaml` and `config/token_budgets.yaml`. No file
/// means every default.
public struct Configuration: Sendable {
    /// The last file read (the one that wins), or nil for the defaults.
    public let file: URL?
    /// Every file read, lowest layer first.
    public let files: [URL]
    /// The merged document.
    public let root: TOMLTable
    /// Settings read but not used (an unsupported alert channel in YAML…),
    /// to tell the user once.
    public let notes: [String]

    /// A configuration with every default.
    public init() {
        file = nil
        files = []
        root = TOMLTable()
        notes = []
    }

    /// Parses `text` as if read from `file` (YAML when the name ends in
    /// `.yaml` or `.yml`, TOML otherwise).
    public init(text: String, file: URL) throws {
        try self.init(layers: [(text, file)])
    }

    /// The largest configuration file read (1 MiB).
    public static let largestFile = 1 << 20

    /// Parses each file and lays it over the ones before.
    public init(layers: [(text: String, file: URL)]) throws {
        var root = TOMLTable()
        var notes: [String] = []
        for (text, url) in layers {
            let table: TOMLTable
            if ["yaml", "yml"].contains(url.pathExtension.lowercased()) {
                let converted = try BudgetYAML.convert(text, source: url.path)
                table = converted.table
                notes += converted.notes
            } else {
                table = try TOMLParser.parse(text, source: url.path).stamped(source: url.path)
            }
            root = root.merging(table)
        }
        self.file = layers.last?.file
        self.files = layers.map(\.file)
        self.root = root
        self.notes = notes
        try ConfigSchema.check(root, file: file)
    }

    /// The files the layered search looks at, lowest layer first.
    public static func searchPath(environment: [String: String] = ProcessEnvironment.variables(),
                                  directory: URL? = nil) -> [URL] {
        searchPaths(environment: environment, directory: directory?.path).map { URL(fileURLWithPath: $0) }
    }

    /// `searchPath` as text: joined as strings, not by URL, whose path
    /// handling costs its first use a scan of the executable's protocol
    /// conformances (0.3 ms of every start, when no file is there to find).
    static func searchPaths(environment: [String: String], directory: String?) -> [String] {
        func join(_ base: String, _ tail: String) -> String { base.hasSuffix("/") ? base + tail : base + "/" + tail }
        let configHome = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? join(ProcessEnvironment.home(environment), ".config")
        let user = join(configHome, "omega")
        let here = directory ?? FileManager.default.currentDirectoryPath
        return [join(user, "config.toml"), join(user, "token_budgets.yaml"), join(here, ".omega/config.toml"),
                join(here, ".omega/token_budgets.yaml"), join(here, "config/token_budgets.yaml")]
    }

    /// Finds and reads the configuration (see the type's comment).
    public static func load(path: String? = nil,
                            environment: [String: String] = ProcessEnvironment.variables(),
                            directory: URL? = nil) throws -> Configuration {
        let explicit = path ?? environment["OMEGA_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        var urls: [URL]
        if let p = explicit {
            let base = directory ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            let url = URL(fileURLWithPath: (p as NSString).expandingTildeInPath, relativeTo: base).standardizedFileURL
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw ConfigError(place: url.path, message: "the configuration file does not exist")
            }
            urls = [url]
        } else {
            urls = searchPaths(environment: environment, directory: directory?.path)
                .filter { FileManager.default.fileExists(atPath: $0) }.map { URL(fileURLWithPath: $0).standardizedFileURL }
            // The same file reached twice (a project in the config directory) counts once.
            var seen = Set<String>()
            urls = urls.filter { seen.insert($0.path).inserted }
        }
        if urls.isEmpty { return Configuration() }
        var layers: [(text: String, file: URL)] = []
        for url in urls {
            // A configuration is a page or two; a huge file is a mistake (or an attack), not read into memory.
            let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
            guard size <= Configuration.largestFile else {
                throw ConfigError(place: url.path, message: "the configuration file is \(size) bytes; at most \(Configuration.largestFile) are read")
            }
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw ConfigError(place: url.path, message: "cannot read the configuration file")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw ConfigError(place: url.path, message: "the configuration file is not UTF-8 text")
            }
            layers.append((text, url))
        }
        do {
            return try Configuration(layers: layers)
        } catch let e as TOMLError {
            throw ConfigError(place: "\(e.source):\(e.line)", message: e.message)
        }
    }

    // MARK: Typed access

    /// A key's value and where it was set; nil when absent.
    public func lookup(_ path: String) -> (value: TOMLValue, place: String)? {
        locate(path).flatMap { table, key in table[key].map { ($0, place(table, key)) } }
    }

    /// The table that holds a dotted key's last part, and that part.
    private func locate(_ path: String) -> (table: TOMLTable, key: String)? {
        let parts = path.split(separator: ".").map(String.init)
        var table = root
        for (n, key) in parts.enumerated() {
            guard let v = table[key] else { return nil }
            if n == parts.count - 1 { return (table, key) }
            guard case .table(let t) = v else { return nil }
            table = t
        }
        return nil
    }

    func place(_ table: TOMLTable, _ key: String) -> String {
        "\(table.sources[key] ?? file?.path ?? "config"):\(table.lines[key] ?? 0)"
    }

    /// A sub-table, or nil; an error when the key holds something else.
    public func table(_ path: String) throws -> TOMLTable? {
        guard let (v, place) = lookup(path) else { return nil }
        guard case .table(let t) = v else { throw ConfigError(place: place, key: path, message: "expected a table, got \(v.kind)") }
        return t
    }

    /// A string setting.
    public func string(_ path: String) throws -> String? {
        guard let (v, place) = lookup(path) else { return nil }
        guard case .string(let s) = v else { throw ConfigError(place: place, key: path, message: "expected a string, got \(v.kind)") }
        return s
    }

    /// A path setting, resolved against the configuration file's directory.
    public func path(_ key: String) throws -> URL? {
        guard let s = try string(key) else { return nil }
        // Relative to the file that set it.
        let source = locate(key).flatMap { $0.table.sources[$0.key] }
        let base = source.map { URL(fileURLWithPath: $0).deletingLastPathComponent() }
            ?? file?.deletingLastPathComponent() ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let expanded = s.hasPrefix("~/") ? NSHomeDirectory() + s.dropFirst(1) : s
        return URL(fileURLWithPath: expanded, relativeTo: base).standardizedFileURL
    }

    /// A boolean setting.
    public func bool(_ path: String) throws -> Bool? {
        guard let (v, place) = lookup(path) else { return nil }
        guard case .bool(let b) = v else { throw ConfigError(place: place, key: path, message: "expected true or false, got \(v.kind)") }
        return b
    }
}

/// A configuration mistake: where it is, which key, and what is wrong.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    /// Where: `FILE:LINE`, or `$VARIABLE`.
    public var place: String
    /// The key at fault, when there is one.
    public var key: String?
    /// What is wrong with it.
    public var message: String

    /// An error at `place`.
    public init(place: String, key: String? = nil, message: String) {
        self.place = place
        self.key = key
        self.message = message
    }

    public var description: String {
        "\(place): " + (key.map { "\($0): " } ?? "") + message
    }
}

// MARK: Prices and tokenizer settings

extension Configuration {
    /// The price table: built-in prices, then LiteLLM's file (`prices.litellm`),
    /// then `[prices.models.NAME]` entries, each overriding the one before;
    /// `prices.default` opts into a price for unknown models.
    public func prices(base: PriceTable = .builtIn) throws -> PriceTable {
        var table = base
        if let url = try path("prices.litellm") {
            do {
                table.merge(try PriceTable(liteLLMFile: url))
            } catch let e as PriceError {
                throw ConfigError(place: lookup("prices.litellm")?.place ?? "config", key: "prices.litellm", message: e.description)
            }
        }
        if let models = try self.table("prices.models") {
            for name in models.keys {
                guard case .table(let entry)? = models[name] else {
                    throw ConfigError(place: place(models, name), key: "prices.models.\(name)",
                                      message: "expected a table with input and output prices")
                }
                table.set(try modelPrice(name, entry, key: "prices.models.\(name)"))
            }
        }
        if let (v, place) = lookup("prices.default") {
            guard case .table(let entry) = v else {
                throw ConfigError(place: place, key: "prices.default", message: "expected a table such as { input = 1.0, output = 2.0 }")
            }
            table.defaultPrice = try modelPrice("default", entry, key: "prices.default")
        }
        return table
    }

    private func modelPrice(_ name: String, _ entry: TOMLTable, key: String) throws -> ModelPrice {
        func money(_ field: String) throws -> Money? {
            guard let v = entry[field] else { return nil }
            guard let text = v.numberText, let m = Money(perMillionTokens: text), m >= .zero else {
                throw ConfigError(place: place(entry, field), key: "\(key).\(field)",
                                  message: "expected a price in USD per million tokens, got \(v.kind)")
            }
            return m
        }
        func count(_ field: String) throws -> Int? {
            guard let v = entry[field] else { return nil }
            guard case .integer(let n) = v, n > 0 else {
                throw ConfigError(place: place(entry, field), key: "\(key).\(field)", message: "expected a positive whole number of tokens")
            }
            return n
        }
        let known: Set<String> = ["provider", "input", "output", "cache-read", "cache-write", "context", "max-output"]
        if let unknown = entry.keys.first(where: { !known.contains($0) }) {
            throw ConfigError(place: place(entry, unknown), key: "\(key).\(unknown)",
                              message: "unknown field (known: \(known.sorted().joined(separator: ", ")))")
        }
        guard let input = try money("input"), let output = try money("output") else {
            throw ConfigError(place: file?.path ?? "config", key: key, message: "needs both input and output prices (USD per million tokens)")
        }
        var provider = "openai"
        if let v = entry["provider"] {
            guard case .string(let p) = v else {
                throw ConfigError(place: place(entry, "provider"), key: "\(key).provider", message: "expected a string")
            }
            provider = p
        }
        return ModelPrice(model: name, provider: provider, input: input, output: output,
                          cacheRead: try money("cache-read"), cacheWrite: try money("cache-write"),
                          contextWindow: try count("context"), maxOutputTokens: try count("max-output"),
                          source: file?.path ?? "config")
    }

    /// The model → encoding map: built-in rules plus `[tokenizer.models]`
    /// (`"my-model*" = "cl100k_base"`), and `tokenizer.fallback-encoding`
    /// for other vendors' models.
    public func modelEncodings() throws -> ModelEncodings {
        var map = ModelEncodings()
        if let fallback = try string("tokenizer.fallback-encoding") {
            guard EncodingSpec.named(fallback) != nil else {
                throw ConfigError(place: lookup("tokenizer.fallback-encoding")?.place ?? "config", key: "tokenizer.fallback-encoding",
                                  message: "unknown encoding \(fallback) (known: cl100k_base, o200k_base)")
            }
            map.fallback = EncodingSpec.named(fallback)?.name ?? fallback
        }
        if let models = try table("tokenizer.models") {
            for pattern in models.keys {
                guard case .string(let e)? = models[pattern], let spec = EncodingSpec.named(e) else {
                    throw ConfigError(place: place(models, pattern), key: "tokenizer.models.\(pattern)",
                                      message: "expected an encoding name: cl100k_base or o200k_base")
                }
                map.custom.append(.init(pattern.lowercased(), spec.name))
            }
        }
        return map
    }

    /// The time → money scale (`prices.dollars-per-hour`, default 2.50: 4 hours = $10).
    public func conversions() throws -> BudgetConversions {
        guard let (v, place) = lookup("prices.dollars-per-hour") else { return BudgetConversions() }
        guard let text = v.numberText, let m = Money(dollars: text), m > .zero else {
            throw ConfigError(place: place, key: "prices.dollars-per-hour", message: "expected a positive amount of USD")
        }
        return BudgetConversions(dollarsPerHour: m)
    }
}
