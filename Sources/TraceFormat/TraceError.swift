/// Where in a trace file something went wrong.
public enum TraceLocation: Sendable, Equatable {
    /// A 1-based line and byte column of the decompressed text.
    case line(UInt64, column: Int)
    /// A byte offset in the file as stored (for damage found while
    /// decompressing or framing).
    case byteOffset(UInt64)
    /// The file as a whole (it could not be opened, say).
    case file
}

/// Why a trace could not be read. Every error names the file, the place and
/// what was wrong; its ``description`` is the line the CLI prints:
///
///     trace.txt:12:7: error: unknown key `adr` (found: adr=0x1000)
public struct TraceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file's name as the user gave it (`-` for standard input).
    public var file: String
    /// Where in the file.
    public var location: TraceLocation
    /// What was wrong, as one sentence without a final period.
    public var message: String
    /// The offending text, when there is one.
    public var found: String?

    /// Creates an error.
    public init(file: String, location: TraceLocation, message: String, found: String? = nil) {
        self.file = file
        self.location = location
        self.message = message
        self.found = found
    }

    /// The 1-based line, when the error has one.
    public var line: UInt64? {
        if case .line(let line, _) = location { return line }
        return nil
    }

    /// The 1-based column, when the error has one.
    public var column: Int? {
        if case .line(_, let column) = location { return column }
        return nil
    }

    public var description: String {
        let place: String
        switch location {
        case .line(let line, let column): place = "\(file):\(line):\(column)"
        case .byteOffset(let offset): place = "\(file): byte \(offset)"
        case .file: place = file
        }
        var text = "\(place): error: \(message)"
        if let found { text += " (found: \(Self.printable(found)))" }
        return text
    }

    /// `text` with control characters written as `\xNN`, so that an error
    /// about a NUL or an escape sequence prints them, not acts on them, and
    /// with characters that print as nothing or as a plain blank (a
    /// no-break space, a zero-width space, a byte order mark, other format
    /// and separator characters) as `\u{NNNN}`, so that the error shows
    /// what is wrong with a line that looks right.
    static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7f {
                let digits = String(scalar.value, radix: 16)
                out += "\\x" + (digits.count == 1 ? "0" + digits : digits)
            } else if needsEscape(scalar) {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 { return scalar.value < 0x20 || scalar.value == 0x7f }
        switch scalar.properties.generalCategory {
        case .spaceSeparator, .format, .lineSeparator, .paragraphSeparator, .control: return true
        default: return false
        }
    }
}
