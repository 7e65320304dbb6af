/// A position in a source file, packed into one word so every pair can carry
/// one: 16 bits of file id (0 = unknown), 28 bits of line, 20 of column.
public struct SourceLocation: Hashable, Sendable {
    package let packed: UInt64

    /// No known place (data not read from source text).
    public static let none = SourceLocation(packed: 0)

    package init(packed: UInt64) { self.packed = packed }

    init(file: Int, line: Int, column: Int) {
        let f = UInt64(min(max(file, 0), 0xFFFF))
        let l = UInt64(min(max(line, 0), 0xFFF_FFFF))
        let c = UInt64(min(max(column, 0), 0xF_FFFF))
        packed = (f << 48) | (l << 20) | c
    }

    var fileID: Int { Int(packed >> 48) }
    /// The line, from 1.
    public var line: Int { Int((packed >> 20) & 0xFFF_FFFF) }
    /// The column, from 1.
    public var column: Int { Int(packed & 0xF_FFFF) }
    /// Whether the place is known.
    public var isKnown: Bool { packed != 0 }
}

/// The names of source files, indexed by `SourceLocation.fileID`.
package final class SourceFiles {
    private(set) var names: [String] = ["?"]
    private var ids: [String: Int] = [:]

    package func id(for name: String) -> Int {
        if let id = ids[name] { return id }
        guard names.count < 0xFFFF else { return 0 }
        names.append(name)
        ids[name] = names.count - 1
        return names.count - 1
    }

    func name(of loc: SourceLocation) -> String {
        let id = loc.fileID
        return id < names.count ? names[id] : "?"
    }

    /// `summarise.scm:12`: the file's last path component and the line, for
    /// names people read (a budget scope's).
    package func shortDescription(_ loc: SourceLocation) -> String {
        let file = name(of: loc).split(separator: "/").last.map(String.init) ?? "?"
        return "\(file):\(loc.line)"
    }

    /// `FILE:LINE:COL`, or nil when the location is unknown.
    func describe(_ loc: SourceLocation) -> String? {
        guard loc.isKnown else { return nil }
        return "\(name(of: loc)):\(loc.line):\(loc.column)"
    }
}
