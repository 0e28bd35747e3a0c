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
        td_toml_entry &e = push(k, a, path, TD_TOML_ARRAY);
        e.n = a.size();
        e.elem_type = a.empty() ? TD_TOML_OTHER : scalar_type(a[0]);
        for (const toml::node &x : a)
            if (scalar_type(x) != e.elem_type)
                e.elem_type = TD_TOML_OTHER;
        fill_array(e, a);
    }

    static void fill_array(td_toml_entry &e, const toml::array &a)
    {
        const td_toml_type t = e.elem_type;
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
    try {
        toml::table t = toml::parse(std::string_view(text ? text : ""),
                                    std::string_view(source));
        f.table(t, "");
        to_doc(f.items, doc);
        return 0;
    } catch (const toml::parse_error &e) {
        set_msg(errbuf, errlen, source, e.source().begin, e.description());
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
