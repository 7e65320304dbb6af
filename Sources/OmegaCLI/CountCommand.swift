import ArgumentParser
import Foundation
import OmegaCore
import OmegaModels

/// `omega count`: token counts of files or standard input.
struct CountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "count",
        abstract: "Count the tokens of files (or standard input) exactly, as tiktoken does.",
        discussion: """
            The encoding follows --model (gpt-4o, gpt-5… use o200k_base; gpt-4, gpt-3.5 use \
            cl100k_base); other vendors' models are counted with o200k_base and labelled estimates. \
            Without --model or --encoding: $OMEGA_MODEL, else o200k_base.
            Special tokens such as <|endoftext|> count as ordinary text unless --allow-special.
            When the tokenizer files are not installed the counts are estimates (characters ÷ 4), \
            marked with ~.
            """
    )

    @Option(name: .shortAndLong, help: ArgumentHelp("Count as this model does.", valueName: "MODEL"))
    var model: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Count with this encoding: cl100k_base or o200k_base.", valueName: "ENCODING"))
    var encoding: String?

    @Option(name: .long, help: ArgumentHelp("Read this configuration file instead of .omega/config.toml.", valueName: "FILE"))
    var config: String?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Flag(help: "Count special tokens (<|endoftext|>…) as one token each.")
    var allowSpecial = false

    @Flag(help: "Print the token ids, one line per input.")
    var ids = false

    @Flag(help: "Report the tokenizer's load time and encoding speed on standard error.")
    var stats = false

    @Argument(help: "Files to count; standard input when none.")
    var files: [String] = []

    func validate() throws {
        if model != nil && encoding != nil { throw ValidationError("give --model or --encoding, not both") }
        if let e = encoding, EncodingSpec.named(e) == nil {
            throw ValidationError("unknown encoding '\(e)' (known: \(EncodingSpec.all.map(\.name).joined(separator: ", ")))")
        }
    }

    /// One counted input.
    struct Counted {
        var name: String
        var count: TokenCount
        var ids: [Int]?
    }

    func run() throws {
        // The configuration's encodings and prices, resolved as a run would.
        var flags = Session.Flags()
        flags.config = config
        let session = try Session(flags: flags)
        let counter = session.models.tokens
        let prices = session.models.prices
        let chosenModel = model ?? (encoding == nil ? ProcessInfo.processInfo.environment["OMEGA_MODEL"].flatMap { $0.isEmpty ? nil : $0 } : nil)
        let spec: EncodingSpec
        var exactForModel = true
        if let m = chosenModel {
            let (name, exact) = counter.models.resolve(m)
            guard let s = EncodingSpec.named(name) else { throw ValidationError("encoding \(name) for model \(m) is unknown") }
            spec = s
            exactForModel = exact
        } else {
            spec = EncodingSpec.named(encoding ?? "o200k_base") ?? .o200k
        }

        var inputs: [(String, String)] = []
        if files.isEmpty {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            inputs.append(("-", String(decoding: data, as: UTF8.self)))
        } else {
            for f in files {
                guard let data = FileManager.default.contents(atPath: f) else {
                    throw CLIError("cannot read \(f)")
                }
                inputs.append((f, String(decoding: data, as: UTF8.self)))
            }
        }

        let loadStart = DispatchTime.now()
        let tokenizer = try? counter.tokenizer(spec).get()
        let encodeStart = DispatchTime.now()
        var results: [Counted] = []
        for (name, text) in inputs {
            if let t = tokenizer {
                let tokenIds = allowSpecial ? try t.encode(text, special: .allowedAll) : t.encodeOrdinary(text)
                var c = TokenCount(tokens: tokenIds.count, exact: true, encoding: spec.name, note: nil)
                if !exactForModel, let m = chosenModel {
                    c.exact = false
                    c.note = prices.price(for: m) == nil
                        ? "\(m) is not a model Omega knows\(prices.didYouMean(m)); counted with \(spec.name) as an estimate"
                        : "\(m) has its own tokenizer; counted with \(spec.name)"
                }
                results.append(Counted(name: name, count: c, ids: ids ? tokenIds : nil))
            } else {
                results.append(Counted(name: name, count: counter.count(text, encoding: spec), ids: nil))
            }
        }
        if stats {
            let end = DispatchTime.now()
            let load = Double(encodeStart.uptimeNanoseconds - loadStart.uptimeNanoseconds) / 1e6
            let encode = Double(end.uptimeNanoseconds - encodeStart.uptimeNanoseconds) / 1e6
            let bytes = inputs.reduce(0) { $0 + $1.1.utf8.count }
            let mbps = encode > 0 ? Double(bytes) / 1e6 / (encode / 1000) : 0
            printError(String(format: "omega count: %@ loaded in %.1f ms; %d bytes encoded in %.1f ms (%.1f MB/s)",
                              spec.name, load, bytes, encode, mbps))
        }
        if ids && tokenizer == nil {
            throw CLIError("--ids needs the tokenizer files: \(RankFiles.installHint)")
        }
        output(results, spec: spec, model: chosenModel)
    }

    private func output(_ results: [Counted], spec: EncodingSpec, model: String?) {
        let total = results.reduce(0) { $0 + $1.count.tokens }
        let exact = results.allSatisfy(\.count.exact)
        if json {
            var object: [String: Any] = [
                "encoding": spec.name, "exact": exact, "total": total,
                "files": results.map { r -> [String: Any] in
                    var o: [String: Any] = ["path": r.name, "tokens": r.count.tokens, "exact": r.count.exact]
                    if let ids = r.ids { o["ids"] = ids }
                    return o
                },
            ]
            if let m = model { object["model"] = m }
            if let note = results.first(where: { !$0.count.exact })?.count.note { object["note"] = note }
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                print(String(decoding: data, as: UTF8.self))
            }
            return
        }
        for r in results {
            if let ids = r.ids {
                print(ids.map(String.init).joined(separator: " "))
                continue
            }
            let n = (r.count.exact ? "" : "~") + String(r.count.tokens)
            print(results.count == 1 && r.name == "-" ? n : "\(n)\t\(r.name)")
        }
        if results.count > 1 && !ids { print("\(exact ? "" : "~")\(total)\ttotal") }
        if let note = results.first(where: { !$0.count.exact })?.count.note {
            printError("omega count: estimate: \(note)")
        }
    }
}

/// An error a subcommand reports as `omega: MESSAGE` with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
