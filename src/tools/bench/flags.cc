// Go-style flag parsing for skald-bench (see flags.h).
#include "tools/bench/flags.h"

#include <charconv>
#include <cstdlib>

#include "core/time.h"

namespace skald::bench {

void FlagSet::Add(const std::string& name, Kind kind, void* ptr, const std::string& help) {
  Flag f{name, kind, ptr, help, ""};
  f.def = ValueString(f);
  flags_.push_back(std::move(f));
}

void FlagSet::String(const std::string& n, std::string* v, const std::string& h) {
  Add(n, Kind::kString, v, h);
}
void FlagSet::Int(const std::string& n, int64_t* v, const std::string& h) {
  Add(n, Kind::kInt, v, h);
}
void FlagSet::Int32(const std::string& n, int* v, const std::string& h) {
  Add(n, Kind::kInt32, v, h);
}
void FlagSet::Uint(const std::string& n, uint64_t* v, const std::string& h) {
  Add(n, Kind::kUint, v, h);
}
void FlagSet::Double(const std::string& n, double* v, const std::string& h) {
  Add(n, Kind::kDouble, v, h);
}
void FlagSet::Bool(const std::string& n, bool* v, const std::string& h) {
  Add(n, Kind::kBool, v, h);
}
void FlagSet::Duration(const std::string& n, int64_t* ns, const std::string& h) {
  Add(n, Kind::kDuration, ns, h);
}

std::string FlagSet::ValueString(const Flag& f) {
  switch (f.kind) {
    case Kind::kString:
      return "\"" + *static_cast<std::string*>(f.ptr) + "\"";
    case Kind::kInt:
      return std::to_string(*static_cast<int64_t*>(f.ptr));
    case Kind::kInt32:
      return std::to_string(*static_cast<int*>(f.ptr));
    case Kind::kUint:
      return std::to_string(*static_cast<uint64_t*>(f.ptr));
    case Kind::kDouble: {
      std::string s = std::to_string(*static_cast<double*>(f.ptr));
      while (s.size() > 1 && s.back() == '0') s.pop_back();
      if (!s.empty() && s.back() == '.') s.pop_back();
      return s;
    }
    case Kind::kBool:
      return *static_cast<bool*>(f.ptr) ? "true" : "false";
    case Kind::kDuration:
      return FormatGoDuration(*static_cast<int64_t*>(f.ptr));
  }
  return "";
}

Status FlagSet::Set(const Flag& f, const std::string& value) {
  auto bad = [&] {
    return Status::InvalidArgument("invalid value \"" + value + "\" for flag -" + f.name);
  };
  const char* b = value.data();
  const char* e = value.data() + value.size();
  switch (f.kind) {
    case Kind::kString:
      *static_cast<std::string*>(f.ptr) = value;
      return Status::OK();
    case Kind::kInt: {
      int64_t v;
      auto r = std::from_chars(b, e, v);
      if (r.ec != std::errc() || r.ptr != e) return bad();
      *static_cast<int64_t*>(f.ptr) = v;
      return Status::OK();
    }
    case Kind::kInt32: {
      int v;
      auto r = std::from_chars(b, e, v);
      if (r.ec != std::errc() || r.ptr != e) return bad();
      *static_cast<int*>(f.ptr) = v;
      return Status::OK();
    }
    case Kind::kUint: {
      uint64_t v;
      auto r = std::from_chars(b, e, v);
      if (r.ec != std::errc() || r.ptr != e) return bad();
      *static_cast<uint64_t*>(f.ptr) = v;
      return Status::OK();
    }
    case Kind::kDouble: {
      char* end = nullptr;
      double v = std::strtod(value.c_str(), &end);
      if (value.empty() || end != value.c_str() + value.size()) return bad();
      *static_cast<double*>(f.ptr) = v;
      return Status::OK();
    }
    case Kind::kBool:
      if (value == "true" || value == "1" || value == "t" || value == "TRUE" || value == "True") {
        *static_cast<bool*>(f.ptr) = true;
      } else if (value == "false" || value == "0" || value == "f" || value == "FALSE" ||
                 value == "False") {
        *static_cast<bool*>(f.ptr) = false;
      } else {
        return bad();
      }
      return Status::OK();
    case Kind::kDuration: {
      if (value == "0") {
        *static_cast<int64_t*>(f.ptr) = 0;
        return Status::OK();
      }
      StatusOr<int64_t> d = ParseGoDuration(value);
      if (!d.ok()) d = ParsePromDuration(value);
      if (!d.ok()) return bad();
      *static_cast<int64_t*>(f.ptr) = *d;
      return Status::OK();
    }
  }
  return bad();
}

Status FlagSet::Parse(const std::vector<std::string>& args, std::vector<std::string>* positional,
                      bool* help) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      for (size_t j = i + 1; j < args.size(); ++j) positional->push_back(args[j]);
      break;
    }
    if (a.size() < 2 || a[0] != '-') {
      positional->push_back(a);
      continue;
    }
    std::string body = a.substr(a[1] == '-' ? 2 : 1);
    std::string name = body, value;
    bool has_value = false;
    if (size_t eq = body.find('='); eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    if (name == "h" || name == "help") {
      if (help != nullptr) *help = true;
      continue;
    }
    const Flag* f = nullptr;
    for (const auto& x : flags_) {
      if (x.name == name) f = &x;
    }
    if (f == nullptr) return Status::InvalidArgument("flag provided but not defined: -" + name);
    if (!has_value) {
      if (f->kind == Kind::kBool) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return Status::InvalidArgument("flag needs an argument: -" + name);
      }
    }
    SKALD_RETURN_IF_ERROR(Set(*f, value));
  }
  return Status::OK();
}

std::string FlagSet::Usage() const {
  static const char* kTypes[] = {"string", "int", "int", "uint", "float", "", "duration"};
  std::string o;
  for (const auto& f : flags_) {
    std::string head = "  -" + f.name;
    const char* t = kTypes[static_cast<int>(f.kind)];
    if (*t) head += std::string(" ") + t;
    o += head + "\n      " + f.help;
    if (f.def != "\"\"" && f.def != "0" && f.def != "false" && f.def != "0s") {
      o += " (default " + f.def + ")";
    }
    o += "\n";
  }
  return o;
}

}  // namespace skald::bench
