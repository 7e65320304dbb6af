import OmegaCore
/// A TOML value. Floats keep their decimal text, so a price or a budget
/// written `0.10` in a config file is read exactly, never through a Double.
public indirect enum TOMLValue: Equatable, Sendable {
    case string(String)
    case integer(Int)
    /// A float, as written (`0.5`, `2.5e-6`, `inf`).
    case decimal(String)
    case bool(Bool)
    case array([TOMLValue])
    case table(TOMLTable)

    /// The value as a number's text (integers and floats), for exact parsing.
    public var numberText: String? {
        switch self {
        case .integer(let i): return String(i)
        case .decimal(let d): return d
        default: return nil
        }
    }

    /// What the value is, for error messages.
    public var kind: String {
        switch self {
        case .string: return "a string"
        case .integer: return "an integer"
        case .decimal: return "a number"
        case .bool: return "a boolean"
        case .array: return "an array"
        case .table: return "a table"
        }
    }
}

/// A TOML table: its keys in file order, and the line each key was set on.
public struct TOMLTable: Equatable, Sendable {
    /// The keys, in the order the file set them.
    public private(set) var keys: [String] = []
    /// The values by key.
    public private(set) var values: [String: TOMLValue] = [:]
    /// The line of each key (1-based), for error messages.
    public private(set) var lines: [String: Int] = [:]

    /// An empty table.
    public init() {}

    /// The value at `key`, if set.
    public subscript(key: String) -> TOMLValue? { values[key] }

    /// The file each key was read from (tables merged from several files
    /// keep each key's own).
    public private(set) var sources: [String: String] = [:]

    mutating func set(_ key: String, _ value: TOMLValue, line: Int, source: String? = nil) {
        if values[key] == nil { keys.append(key) }
        values[key] = value
        lines[key] = line
        if let source { sources[key] = source }
    }

    /// The table with every key (at any depth) marked as read from `source`.
    func stamped(source: String) -> TOMLTable {
        var t = TOMLTable()
        for k in keys {
            guard let v = values[k] else { continue }
            if case .table(let sub) = v {
                t.set(k, .table(sub.stamped(source: source)), line: lines[k] ?? 0, source: sources[k] ?? source)
            } else {
                t.set(k, v, line: lines[k] ?? 0, source: sources[k] ?? source)
            }
        }
        return t
    }

    /// This table with `other` laid over it: tables merge key by key, any
    /// other value of `other` replaces this one's (with its line and file).
    func merging(_ other: TOMLTable) -> TOMLTable {
        var t = self
        for k in other.keys {
            guard let v = other.values[k] else { continue }
            if case .table(let mine)? = t.values[k], case .table(let theirs) = v {
                t.set(k, .table(mine.merging(theirs)), line: t.lines[k] ?? 0, source: t.sources[k])
            } else {
                t.set(k, v, line: other.lines[k] ?? 0, source: other.sources[k])
            }
        }
        return t
    }
}

/// An error in a TOML file, with its place.
public struct TOMLError: Error, CustomStringConvertible, Equatable {
    /// The file.
    public var source: String
    /// The line (1-based).
    public var line: Int
    /// What is wrong there.
    public var message: String
    public var description: String { "\(source):\(line): \(message)" }
}

/// A parser for TOML 1.0 without date-time values (Omega's config has none).
public struct TOMLParser {
    private let chars: [Character]
    private var i = 0
    private var line = 1
    private let source: String
    /// Arrays and inline tables open now; no configuration needs more than a few.
    private var nesting = 0
    static let maxNesting = 100

    /// Parses `text`; `source` (a file name) prefixes every error.
    public static func parse(_ text: String, source: String) throws -> TOMLTable {
        var p = TOMLParser(chars: Array(text), source: source)
        return try p.document()
    }

    private init(chars: [Character], source: String) {
        self.chars = chars
        self.source = source
    }

    private func fail(_ message: String) -> TOMLError { TOMLError(source: source, line: line, message: message) }

    private var atEnd: Bool { i >= chars.count }
    private var current: Character? { atEnd ? nil : chars[i] }
    private func peek(_ k: Int = 1) -> Character? { i + k < chars.count ? chars[i + k] : nil }

    private mutating func advance() {
        if chars[i] == "\n" || chars[i] == "\r\n" { line += 1 }
        i += 1
    }

    private mutating func skipSpaces() {
        while let c = current, c == " " || c == "\t" { advance() }
    }

    private mutating func skipComment() {
        if current == "#" { while let c = current, c != "\n" && c != "\r\n" { advance() } }
    }

    /// Spaces, comments and newlines (inside arrays).
    private mutating func skipBlank() {
        while let c = current {
            if c == " " || c == "\t" || c == "\n" || c == "\r\n" || c == "\r" { advance() } else if c == "#" { skipComment() } else { break }
        }
    }

    private mutating func endOfLine() throws {
        skipSpaces()
        skipComment()
        guard let c = current else { return }
        guard c == "\n" || c == "\r\n" else { throw fail("unexpected '\(c)' after a value (one key = value per line)") }
        advance()
    }

    private mutating func document() throws -> TOMLTable {
        var root = TOMLTable()
        var path: [String] = []
        var defined: Set<[String]> = []
        while true {
            skipBlank()
            guard let c = current else { break }
            if c == "[" {
                let isArray = peek() == "["
                advance()
                if isArray { advance() }
                skipSpaces()
                let header = try keyPath()
                skipSpaces()
                guard current == "]" else { throw fail("expected ']' to close the table header") }
                advance()
                if isArray {
                    guard current == "]" else { throw fail("expected ']]' to close the array-of-tables header") }
                    advance()
                    try appendTable(&root, header)
                } else {
                    guard !defined.contains(header) else {
                        throw fail("table [\(header.joined(separator: "."))] is defined twice")
                    }
                    defined.insert(header)
                    try ensureTable(&root, header)
                }
                path = header
                try endOfLine()
            } else {
                let keyLine = line
                let key = try keyPath()
                skipSpaces()
                guard current == "=" else { throw fail("expected '=' after the key \(key.joined(separator: "."))") }
                advance()
                skipSpaces()
                let v = try value()
                try insert(&root, path + key, v, line: keyLine)
                try endOfLine()
            }
        }
        return root
    }

    private mutating func keyPath() throws -> [String] {
        var parts: [String] = []
        while true {
            skipSpaces()
            if current == "\"" { parts.append(try basicString()) } else if current == "'" { parts.append(try literalString()) } else {
                var k = ""
                while let c = current, c.isLetter && c.isASCII || c.isNumber && c.isASCII || c == "-" || c == "_" { k.append(c); advance() }
                guard !k.isEmpty else { throw fail("expected a key") }
                parts.append(k)
            }
            skipSpaces()
            if current == "." { advance() } else { return parts }
        }
    }

    /// Walks to the table at `path` (creating it), through the last element of arrays of tables.
    private func withTable(_ table: inout TOMLTable, _ path: ArraySlice<String>, _ body: (inout TOMLTable) throws -> Void) throws {
        guard let first = path.first else { return try body(&table) }
        var sub: TOMLTable
        switch table[first] {
        case nil: sub = TOMLTable()
        case .table(let t)?: sub = t
        case .array(var items)? where !items.isEmpty:
            guard case .table(var last) = items[items.count - 1] else { throw fail("\(first) is not a table") }
            try withTable(&last, path.dropFirst(), body)
            items[items.count - 1] = .table(last)
            table.set(first, .array(items), line: table.lines[first] ?? line)
            return
        case let other?: throw fail("\(first) is \(other.kind), not a table")
        }
        try withTable(&sub, path.dropFirst(), body)
        table.set(first, .table(sub), line: table.lines[first] ?? line)
    }

    private func ensureTable(_ root: inout TOMLTable, _ path: [String]) throws {
        try withTable(&root, path[...]) { _ in }
    }

    private func appendTable(_ root: inout TOMLTable, _ path: [String]) throws {
        let l = line
        try withTable(&root, path.dropLast()) { t in
            let name = path[path.count - 1]
            var items: [TOMLValue] = []
            if let existing = t[name] {
                guard case .array(let a) = existing else { throw fail("\(name) is already \(existing.kind)") }
                items = a
            }
            items.append(.table(TOMLTable()))
            t.set(name, .array(items), line: l)
        }
    }

    private func insert(_ root: inout TOMLTable, _ path: [String], _ v: TOMLValue, line l: Int) throws {
        try withTable(&root, path.dropLast()) { t in
            let name = path[path.count - 1]
            guard t[name] == nil else { throw fail("the key \(path.joined(separator: ".")) is set twice") }
            t.set(name, v, line: l)
        }
    }

    private mutating func value() throws -> TOMLValue {
        guard let c = current else { throw fail("expected a value") }
        if c == "[" || c == "{" {
            guard nesting < TOMLParser.maxNesting else {
                throw fail("arrays and inline tables nested deeper than \(TOMLParser.maxNesting) levels")
            }
            nesting += 1
        }
        defer { if c == "[" || c == "{" { nesting -= 1 } }
        switch c {
        case "\"": return .string(try basicString())
        case "'": return .string(try literalString())
        case "[":
            let opened = line
            advance()
            var items: [TOMLValue] = []
            while true {
                skipBlank()
                if atEnd { throw TOMLError(source: source, line: opened, message: "unterminated array (no closing ']')") }
                if current == "]" { advance(); return .array(items) }
                items.append(try value())
                skipBlank()
                if current == "," { advance(); continue }
                skipBlank()
                guard current == "]" else { throw fail("expected ',' or ']' in an array") }
            }
        case "{":
            advance()
            var t = TOMLTable()
            skipSpaces()
            if current == "}" { advance(); return .table(t) }
            while true {
                skipSpaces()
                let l = line
                let key = try keyPath()
                guard current == "=" else { throw fail("expected '=' in an inline table") }
                advance()
                skipSpaces()
                try insert(&t, key, try value(), line: l)
                skipSpaces()
                if current == "," { advance(); continue }
                guard current == "}" else { throw fail("expected ',' or '}' in an inline table") }
                advance()
                return .table(t)
            }
        default:
            var word = ""
            while let c = current, !" \t\n\r,]}#".contains(c), c != "\r\n" { word.append(c); advance() }
            return try scalar(word)
        }
    }

    private func scalar(_ word: String) throws -> TOMLValue {
        switch word {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "inf", "+inf", "-inf", "nan", "+nan", "-nan": return .decimal(word)
        case "": throw fail("expected a value")
        default: break
        }
        let plain = word.replacingOccurrences(of: "_", with: "")
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where plain.hasPrefix(prefix) {
            guard let v = Int(plain.dropFirst(2), radix: radix) else { throw fail("'\(word)' is not a valid integer") }
            return .integer(v)
        }
        if let v = Int(plain) { return .integer(v) }
        if plain.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), Double(plain) != nil {
            return .decimal(plain)
        }
        if word.contains(":") || word.filter({ $0 == "-" }).count >= 2 {
            throw fail("'\(word)' looks like a date; dates are not supported here (write it as a string)")
        }
        throw fail("'\(word)' is not a value (strings need quotes)")
    }

    private mutating func basicString() throws -> String {
        advance()   // the opening quote
        let multiline = current == "\"" && peek() == "\""
        if multiline {
            advance(); advance()
            if current == "\n" || current == "\r\n" { advance() }
        }
        var s = ""
        while true {
            guard let c = current else { throw fail("unterminated string") }
            if c == "\"" {
                if !multiline { advance(); return s }
                if peek() == "\"" && peek(2) == "\"" { advance(); advance(); advance(); return s }
                s.append(c); advance(); continue
            }
            if (c == "\n" || c == "\r\n") && !multiline { throw fail("unterminated string (strings end on the same line)") }
            if c == "\\" {
                advance()
                guard let e = current else { throw fail("unterminated string") }
                advance()
                switch e {
                case "n": s.append("\n")
                case "t": s.append("\t")
                case "r": s.append("\r")
                case "b": s.append("\u{8}")
                case "f": s.append("\u{C}")
                case "\"": s.append("\"")
                case "\\": s.append("\\")
                case "u", "U":
                    let n = e == "u" ? 4 : 8
                    var hex = ""
                    for _ in 0..<n { if let h = current { hex.append(h); advance() } }
                    guard let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) else {
                        throw fail("bad unicode escape \\\(e)\(hex)")
                    }
                    s.unicodeScalars.append(scalar)
                case let c where multiline && (c == "\n" || c == "\r\n" || c == " " || c == "\t"):
                    // A line-ending backslash (multi-line strings only) trims the whitespace after it.
                    while let w = current, w == " " || w == "\t" || w == "\n" || w == "\r\n" { advance() }
                default: throw fail("unknown escape \\\(e) in a string")
                }
                continue
            }
            s.append(c)
            advance()
        }
    }

    private mutating func literalString() throws -> String {
        advance()
        let multiline = current == "'" && peek() == "'"
        if multiline {
            advance(); advance()
            if current == "\n" || current == "\r\n" { advance() }
        }
        var s = ""
        while true {
            guard let c = current else { throw fail("unterminated string") }
            if c == "'" {
                if !multiline { advance(); return s }
                if peek() == "'" && peek(2) == "'" { advance(); advance(); advance(); return s }
            }
            if (c == "\n" || c == "\r\n") && !multiline { throw fail("unterminated string (strings end on the same line)") }
            s.append(c)
            advance()
        }
    }
}
