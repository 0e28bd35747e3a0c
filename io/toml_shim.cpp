// toml_shim.cpp - td_toml.h implemented with toml++ (v3).
//
// The C side never sees C++ types or exceptions: the document is flattened
// into malloc'd td_toml_entry records and every exception (syntax errors,
// allocation failures) is caught here and turned into a return code.
//
// Conventions beyond td_toml.h (relied on by io/config.c):
//  - return value: TD_ERR_INPUT for a syntax error, TD_ERR_INTERNAL for a
//    resource failure; errbuf holds the message in both cases.
//  - an empty array has n == 0 and elem_type TD_TOML_OTHER (no common type).
//  - an array of arrays has elem_type TD_TOML_ARRAY and n rows, each an
//    entry of its own (any depth); integers and floats mixed are floats.
//  - a TD_TOML_TABLE entry has n == 0 for an empty table and n == number of
//    tables for an array of tables, so `[[data]]` cannot pass for `[data]`.
//  - keys that are not bare keys are quoted in paths ("a.b" stays quoted),
//    so a quoted key `"data.path"` cannot pass for the dotted data.path.
//  - a string containing U+0000 is reported as an error, because the C
//    string handed over would silently be truncated at it.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <vector>

// toml++ 3.3.0 states some parser preconditions with TOML_ASSERT_ASSUME:
// assert() without NDEBUG, __builtin_assume() with it under clang.  One of
// them is false for a table header like "[*ata]" (found by scripts/fuzz):
// parse_key() assumes a key starts with a bare-key character or a quote,
// and the lines after it report the syntax error properly.  The assert
// aborted every rank of a Debug build on that typo, and the assumption is
// undefined behaviour in a clang release build; gcc has no
// __builtin_assume, so its release builds already skip them.  Make that the
// rule for every compiler and build type (plain TOML_ASSERTs stay).
#include <toml++/impl/preprocessor.h>
#undef TOML_ASSERT_ASSUME
#define TOML_ASSERT_ASSUME(expr) static_assert(true)
#include <toml++/toml.h>

extern "C" {
#include "td_err.h"
#include "td_toml.h"
}

#if !TOML_EXCEPTIONS
#error "toml_shim.cpp relies on toml++ reporting parse errors as exceptions"
#endif

namespace {

// A value the C side cannot represent faithfully; reported like a syntax error.
struct bad_value {
    std::string what;
    toml::source_position pos;
};

// One flattened entry plus its position, the key for document order
// (toml++ tables are ordered by key name, not by position).
struct item {
    toml::source_position pos;
    td_toml_entry e;
};

void free_entry(td_toml_entry *e)
{
    if (e->rows)
        for (size_t j = 0; j < e->n; j++)
            free_entry(&e->rows[j]);
    free(e->rows);
    free(e->path);
    free(e->s);
    free(e->ints);
    free(e->floats);
    if (e->strs)
        for (size_t j = 0; j < e->n; j++)
            free(e->strs[j]);
    free(e->strs);
}

// malloc'd copy; throws so that every allocation failure takes one path.
char *dup_str(std::string_view s)
{
    char *c = static_cast<char *>(malloc(s.size() + 1));
    if (!c)
        throw std::bad_alloc();
    memcpy(c, s.data(), s.size());
    c[s.size()] = '\0';
    return c;
}

template <typename T> T *alloc_array(size_t n)
{
    T *p = static_cast<T *>(calloc(n ? n : 1, sizeof(T)));
    if (!p)
        throw std::bad_alloc();
    return p;
}

bool is_bare_key(std::string_view k)
{
    if (k.empty())
        return false;
    for (char c : k)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    return true;
}

// Bare keys verbatim, others as TOML basic strings: keeps paths unambiguous.
std::string key_text(std::string_view k)
{
    if (is_bare_key(k))
        return std::string(k);
    std::string q = "\"";
    for (char c : k) {
        if (c == '"' || c == '\\') {
            q += '\\';
            q += c;
        } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            char hex[8];
            snprintf(hex, sizeof hex, "\\u%04X", static_cast<unsigned>(c));
            q += hex;
        } else {
            q += c;
        }
    }
    return q + "\"";
}

td_toml_type scalar_type(const toml::node &v)
{
    switch (v.type()) {
    case toml::node_type::string: return TD_TOML_STRING;
    case toml::node_type::integer: return TD_TOML_INT;
    case toml::node_type::floating_point: return TD_TOML_FLOAT;
    case toml::node_type::boolean: return TD_TOML_BOOL;
    default: return TD_TOML_OTHER;  // dates, times, arrays, tables
    }
}

char *string_copy(const toml::node &v)
{
    const std::string &s = v.as_string()->get();
    if (s.find('\0') != std::string::npos)
        throw bad_value{"string contains a NUL character (\\u0000)",
                        v.source().begin};
    return dup_str(s);
}

class flattener {
  public:
    std::vector<item> items;

    void table(const toml::table &t, const std::string &prefix)
    {
        for (auto &&[k, v] : t) {
            std::string path = prefix.empty() ? key_text(k.str())
                                              : prefix + "." + key_text(k.str());
            node(k, v, path);
        }
    }

  private:
    // Pushed before any field is filled, so a failure part-way through
    // leaves the allocations reachable for cleanup.
    td_toml_entry &push(const toml::key &k, const toml::node &v,
                        const std::string &path, td_toml_type type)
    {
        toml::source_position pos = k.source().begin;
        if (pos.line == 0)  // keys built without a source: use the value's
            pos = v.source().begin;
        items.push_back(item{pos, td_toml_entry{}});
        td_toml_entry &e = items.back().e;
        e.type = type;
        e.elem_type = TD_TOML_OTHER;
        e.line = static_cast<int>(pos.line);
        e.path = dup_str(path);
        return e;
    }

    void node(const toml::key &k, const toml::node &v, const std::string &path)
    {
        if (const toml::table *t = v.as_table()) {
            if (!t->empty())        // a table with keys shows as its leaves
                table(*t, path);
            else
                push(k, v, path, TD_TOML_TABLE);
        } else if (const toml::array *a = v.as_array()) {
            array(k, *a, path);
        } else {
            scalar(push(k, v, path, scalar_type(v)), v);
        }
    }

    static void scalar(td_toml_entry &e, const toml::node &v)
    {
        switch (e.type) {
        case TD_TOML_STRING: e.s = string_copy(v); break;
        case TD_TOML_INT:
            e.i = v.as_integer()->get();
            e.f = static_cast<double>(e.i);
            break;
        case TD_TOML_FLOAT: e.f = v.as_floating_point()->get(); break;
        case TD_TOML_BOOL: e.i = v.as_boolean()->get() ? 1 : 0; break;
        default: break;
        }
    }

    void array(const toml::key &k, const toml::array &a, const std::string &path)
    {
        bool all_tables = !a.empty();
        for (const toml::node &x : a)
            all_tables = all_tables && x.is_table();
        if (all_tables) {   // [[x]] or x = [{...}]: kept whole, by name
            push(k, a, path, TD_TOML_TABLE).n = a.size();
            return;
        }
        fill_array(push(k, a, path, TD_TOML_ARRAY), a, path);
    }

    // The elements' common type: integers and floats together are
    // numbers (FLOAT), arrays of arrays are ARRAY, anything else mixed
    // is OTHER.
    static td_toml_type common_type(const toml::array &a)
    {
        if (a.empty())
            return TD_TOML_OTHER;
        bool all_arrays = true;
        for (const toml::node &x : a)
            all_arrays = all_arrays && x.is_array();
        if (all_arrays)
            return TD_TOML_ARRAY;
        td_toml_type t = scalar_type(a[0]);
        for (const toml::node &x : a) {
            td_toml_type u = scalar_type(x);
            bool numbers = (t == TD_TOML_INT || t == TD_TOML_FLOAT) &&
                           (u == TD_TOML_INT || u == TD_TOML_FLOAT);
            if (u != t)
                t = numbers ? TD_TOML_FLOAT : TD_TOML_OTHER;
        }
        return t;
    }

    // The rows of an array of arrays: entries of their own (line, path),
    // owned by the parent; n is set before they are filled, so a failure
    // part-way leaves every allocation reachable from e.
    static void fill_rows(td_toml_entry &e, const toml::array &a,
                          const std::string &path)
    {
        e.rows = alloc_array<td_toml_entry>(e.n);
        for (size_t j = 0; j < e.n; j++) {
            td_toml_entry &r = e.rows[j];
            r.type = TD_TOML_ARRAY;
            r.elem_type = TD_TOML_OTHER;
            r.line = static_cast<int>(a[j].source().begin.line);
            r.path = dup_str(path + "[" + std::to_string(j) + "]");
            fill_array(r, *a[j].as_array(), r.path);
        }
    }

    static void fill_array(td_toml_entry &e, const toml::array &a,
                           const std::string &path)
    {
        e.n = a.size();
        e.elem_type = common_type(a);
        const td_toml_type t = e.elem_type;
        if (t == TD_TOML_ARRAY) {
            fill_rows(e, a, path);
            return;
        }
        if (t == TD_TOML_INT || t == TD_TOML_BOOL)
            e.ints = alloc_array<int64_t>(e.n);
        if (t == TD_TOML_INT || t == TD_TOML_FLOAT)
            e.floats = alloc_array<double>(e.n);
        if (t == TD_TOML_STRING)
            e.strs = alloc_array<char *>(e.n);
        for (size_t j = 0; j < e.n; j++) {
            const toml::node &x = a[j];
            if (t == TD_TOML_INT) {
                e.ints[j] = x.as_integer()->get();
                e.floats[j] = static_cast<double>(e.ints[j]);
            } else if (t == TD_TOML_BOOL) {
                e.ints[j] = x.as_boolean()->get() ? 1 : 0;
            } else if (t == TD_TOML_FLOAT && x.is_integer()) {
                e.floats[j] = static_cast<double>(x.as_integer()->get());
            } else if (t == TD_TOML_FLOAT) {
                e.floats[j] = x.as_floating_point()->get();
            } else if (t == TD_TOML_STRING) {
                e.strs[j] = string_copy(x);
            }
        }
    }
};

void set_msg(char *errbuf, size_t errlen, const char *source,
             const toml::source_position &pos, std::string_view what)
{
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "%s:%u:%u: %.*s", source,
                 static_cast<unsigned>(pos.line),
                 static_cast<unsigned>(pos.column),
                 static_cast<int>(what.size()), what.data());
}

void free_items(std::vector<item> &items)
{
    for (item &it : items)
        free_entry(&it.e);
    items.clear();
}

// Moves the entries into doc in document order.
void to_doc(std::vector<item> &items, td_toml_doc *doc)
{
    std::stable_sort(items.begin(), items.end(),
                     [](const item &a, const item &b) {
                         if (a.pos.line != b.pos.line)
                             return a.pos.line < b.pos.line;
                         return a.pos.column < b.pos.column;
                     });
    doc->e = alloc_array<td_toml_entry>(items.size());
    for (size_t j = 0; j < items.size(); j++)
        doc->e[j] = items[j].e;
    doc->n = items.size();
    items.clear();  // ownership moved to doc
}

// toml++ 3.3.0's is_non_ascii_horizontal_whitespace() reaches
// TOML_UNREACHABLE (undefined behaviour) for most code points in
// U+00A1..U+0499 and a few other ranges, and the parser asks it about any
// character where whitespace may follow a value or a line-ending
// backslash: `kappa = 0.5 é`, `order = [1, ²]` (found by scripts/fuzz).
// So toml++ first parses a copy in which every non-ASCII character is '`'
// (legal only inside strings and comments, like them; one column each, so
// positions stay), where the question never comes up.  An error there is
// reported with the real character.  A document that passes holds
// non-ASCII text only in strings and comments, and is parsed again as
// written, except that a non-ASCII character right after a line-ending
// backslash becomes its \u escape (the same string).

// Length of the UTF-8 sequence at t[i] and its code point; 0 if invalid.
size_t utf8_at(std::string_view t, size_t i, unsigned long *cp)
{
    const unsigned char c = static_cast<unsigned char>(t[i]);
    size_t n = c < 0x80 ? 1 : c >= 0xC2 && c < 0xE0 ? 2
             : c >= 0xE0 && c < 0xF0 ? 3 : c >= 0xF0 && c < 0xF5 ? 4 : 0;
    unsigned long v = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F
                                                             : c & 0x07;
    for (size_t k = 1; k < n; k++) {
        if (i + k >= t.size() ||
            (static_cast<unsigned char>(t[i + k]) & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (static_cast<unsigned char>(t[i + k]) & 0x3F);
    }
    if (n > 1 && (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) ||
                  v < (n == 2 ? 0x80ul : n == 3 ? 0x800ul : 0x10000ul)))
        return 0;
    *cp = v;
    return n;
}

// The first pass's text: non-ASCII characters (valid UTF-8, not a leading
// byte order mark) as '`'; invalid bytes are left for toml++ to report.
std::string ascii_stand_in(std::string_view t)
{
    std::string out;
    out.reserve(t.size());
    for (size_t i = 0; i < t.size();) {
        unsigned long cp = 0;
        size_t n = utf8_at(t, i, &cp);
        if (n > 1 && !(i == 0 && cp == 0xFEFF)) {
            out += '`';
            i += n;
        } else {
            out += t[i++];
        }
    }
    return out;
}

// Byte offset in t of the character at toml++'s (line, column), both
// 1-based, columns counted in characters; npos if there is none.
size_t offset_of(std::string_view t, size_t line, size_t col)
{
    size_t i = 0;
    for (size_t l = 1; l < line; l++) {
        i = t.find('\n', i);
        if (i == std::string_view::npos)
            return i;
        i++;
    }
    for (size_t c = 1; c < col && i < t.size() && t[i] != '\n'; c++) {
        unsigned long cp;
        size_t n = utf8_at(t, i, &cp);
        i += n ? n : 1;
    }
    return i < t.size() ? i : std::string_view::npos;
}

// toml++'s description of a first-pass error that sits on a stand-in,
// with the real character put back (in place of the one '`' it quotes).
std::string describe(std::string_view t, const toml::parse_error &e)
{
    std::string d(e.description());
    const toml::source_position pos = e.source().begin;
    size_t at = offset_of(t, pos.line, pos.column);
    unsigned long cp = 0;
    size_t n = at == std::string_view::npos ? 0 : utf8_at(t, at, &cp);
    if (n < 2)
        return d;
    const std::string ch(t.substr(at, n));
    char code[16];
    snprintf(code, sizeof code, "U+%04lX", cp);
    const size_t q = d.find('`');
    if (q != std::string::npos && d.find('`', q + 1) == std::string::npos)
        return d.replace(q, 1, ch) + " (" + code + ")";
    return d + " (at '" + ch + "', " + code + ")";
}

// The second pass's text: the document as written, but a non-ASCII
// character after a line-ending backslash in a multi-line basic string
// as its \u or \U escape.  Only for text the first pass accepted, where
// strings are well formed.
std::string escape_continuations(std::string_view t)
{
    std::string out;
    out.reserve(t.size() + 16);
    enum { code, comment, basic, literal, ml_basic, ml_literal } st = code;
    for (size_t i = 0; i < t.size(); i++) {
        const char c = t[i];
        const bool q3 = t.compare(i, 3, c == '"' ? "\"\"\"" : "'''") == 0;
        out += c;
        switch (st) {
        case code:
            if (c == '#')
                st = comment;
            else if (c == '"' || c == '\'')
                st = c == '"' ? (q3 ? ml_basic : basic)
                              : (q3 ? ml_literal : literal);
            if (q3 && (c == '"' || c == '\'')) {
                out.append(t.substr(i + 1, 2));
                i += 2;
            }
            break;
        case comment:
            st = c == '\n' ? code : comment;
            break;
        case basic:
        case literal:
            if (c == '\\' && st == basic && i + 1 < t.size())
                out += t[++i];
            else if (c == (st == basic ? '"' : '\'') || c == '\n')
                st = code;
            break;
        case ml_basic:
        case ml_literal:
            if (c == '\\' && st == ml_basic && i + 1 < t.size()) {
                size_t j = i + 1;
                bool newline = false;
                while (j < t.size() && (t[j] == ' ' || t[j] == '\t' ||
                                        t[j] == '\r' || t[j] == '\n')) {
                    newline = newline || t[j] == '\n';
                    j++;
                }
                unsigned long cp = 0;
                size_t n = j < t.size() ? utf8_at(t, j, &cp) : 0;
                if (newline && n > 1) {
                    char esc[16];
                    snprintf(esc, sizeof esc,
                             cp > 0xFFFF ? "\\U%08lX" : "\\u%04lX", cp);
                    out.append(t.substr(i + 1, j - i - 1)).append(esc);
                    i = j + n - 1;
                } else {
                    out += t[++i];      // the escaped character
                }
            } else if (q3 && c == (st == ml_basic ? '"' : '\'')) {
                out.append(t.substr(i + 1, 2));
                i += 2;
                st = code;
            }
            break;
        }
    }
    return out;
}

}  // namespace

extern "C" int td_toml_parse(const char *text, const char *source,
                             td_toml_doc *doc, char *errbuf, size_t errlen)
{
    if (!source)
        source = "<string>";
    doc->n = 0;
    doc->e = nullptr;
    if (errbuf && errlen)
        errbuf[0] = '\0';
    flattener f;
    const std::string_view input(text ? text : "");
    bool first = true;     // which pass threw
    try {
        (void)toml::parse(ascii_stand_in(input), std::string_view(source));
        first = false;
        toml::table t = toml::parse(escape_continuations(input),
                                    std::string_view(source));
        f.table(t, "");
        to_doc(f.items, doc);
        return 0;
    } catch (const toml::parse_error &e) {
        set_msg(errbuf, errlen, source, e.source().begin,
                first ? describe(input, e) : std::string(e.description()));
        free_items(f.items);
        return TD_ERR_INPUT;
    } catch (const bad_value &e) {
        set_msg(errbuf, errlen, source, e.pos, e.what);
        free_items(f.items);
        return TD_ERR_INPUT;
    } catch (const std::bad_alloc &) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "%s: out of memory parsing TOML", source);
        free_items(f.items);
        return TD_ERR_INTERNAL;
    } catch (...) {  // nothing else is expected; never let it reach C
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "%s: internal error parsing TOML", source);
        free_items(f.items);
        return TD_ERR_INTERNAL;
    }
}

extern "C" void td_toml_free(td_toml_doc *doc)
{
    if (!doc)
        return;
    for (size_t j = 0; j < doc->n; j++)
        free_entry(&doc->e[j]);
    free(doc->e);
    doc->e = nullptr;
    doc->n = 0;
}
