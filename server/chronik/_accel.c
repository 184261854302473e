/*
 * chronik._accel -- schema-driven native decoder for Chronik's generated Kafka codecs.
 *
 * Each generated message module (chronik_protocol.messages.*) exports SCHEMAS: version ->
 * schema table of its top-level struct (format documented at the end of
 * chronik/protocol/wire.py):
 *
 *     (cls, flexible, fields, tagged, defaults, reserved_tags)
 *     fields:   ((kind, nullable, compact, slot_name, elem_kind, sub), ...)       wire order
 *     tagged:   ((tag, kind, nullable, compact, slot_name, elem_kind, sub), ...)  flexible only
 *     defaults: ((slot_name, mode, value), ...)  every slot that is not a regular field
 *
 * decode(schema, buf, pos) -> (obj, new_pos) produces exactly what the generated pure-Python
 * decoder _DECODERS[version](memoryview(buf), pos) produces, and raises Malformed (a
 * ValueError) for every input that decoder rejects. It is fast because:
 *
 *   - a schema tuple is compiled once into C structures (cached by identity; the cache keeps
 *     the tuple alive so its id can never be reused) with each slot name resolved to the byte
 *     offset of the slot inside an instance;
 *   - objects are allocated with cls->tp_alloc and their slots written directly at those
 *     offsets -- exactly what the __slots__ member descriptors do on assignment -- so no
 *     __init__, no argument parsing and no attribute lookups run per object.
 *
 * Reference conventions: every reader returns a NEW reference or NULL with an exception set.
 * Storing into a slot steals the reference. Instances that fail half-way are simply
 * DECREF'd: the type's dealloc clears the slots that were filled (NULL slots are skipped),
 * so no error path leaks.
 *
 * Bounds: every read is checked against `limit`, the end of the region being decoded (the
 * buffer end, or the end of a tagged field's payload). A tagged payload is decoded within its
 * declared size; the Python decoder reads past it and then fails on "wrong size", so both
 * reject the same inputs.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h> /* PyMemberDef, T_OBJECT_EX, READONLY (3.11) */
#include <stdint.h>
#include <string.h>

#ifndef Py_T_OBJECT_EX /* spelled Py_T_OBJECT_EX / Py_READONLY from 3.12 */
#define Py_T_OBJECT_EX T_OBJECT_EX
#endif
#ifndef Py_READONLY
#define Py_READONLY READONLY
#endif

/* Field kinds and default modes: must match chronik/protocol/wire.py. */
enum {
    K_BOOL = 1, K_INT8, K_INT16, K_UINT16, K_INT32, K_UINT32, K_INT64, K_FLOAT64, K_UUID,
    K_STRING, K_BYTES, K_RECORDS, K_STRUCT, K_ARRAY
};
enum { DEFAULT_CONST = 0, DEFAULT_LIST = 1, DEFAULT_STRUCT = 2 };

/* Structs nest a handful of levels in Kafka; this only bounds the C recursion. */
#define MAX_SCHEMA_DEPTH 32
/* Arrays up to this many elements get a pre-sized list; larger counts (already checked to
 * fit the remaining bytes) grow by appending, so a lying count cannot make us allocate 8
 * bytes of list per byte of input before failing. */
#define PREALLOC_MAX 65536

/* The slot of `obj` at byte offset `off`: a PyObject* field inside the instance. */
#define SLOT(obj, off) (*(PyObject **)((char *)(obj) + (off)))

/* ------------------------------------------------------------------------------------------ */
/* Module state (single-phase init: one interpreter-wide copy).                               */

static PyObject *Malformed;       /* chronik._accel.Malformed(ValueError) */
static PyObject *schema_cache;    /* {id(schema): (capsule, schema)} -- keeps schema alive */

/* uuid.UUID construction. UUID is a pure-Python class with
 * __slots__ = ('int', 'is_safe', '__weakref__') and a __setattr__ that refuses writes, so
 * (like UUID.__init__ does through object.__setattr__) we write the two slots directly. */
static PyObject *uuid_type;       /* uuid.UUID */
static PyObject *uuid_unknown;    /* uuid.SafeUUID.unknown */
static Py_ssize_t uuid_int_off = -1, uuid_safe_off = -1; /* -1: fall back to UUID(int=...) */

#define SCHEMA_CAPSULE "chronik._accel.Schema"

/* ------------------------------------------------------------------------------------------ */
/* Compiled schemas.                                                                          */

typedef struct Schema Schema;

typedef struct {
    uint8_t kind, nullable, compact, elem_kind;
    uint32_t tag;          /* tagged fields only */
    Py_ssize_t offset;     /* byte offset of the slot in an instance of the struct's class */
    Py_ssize_t elem_min;   /* K_ARRAY: minimum wire size of one element (for the count check) */
    Py_ssize_t fixed;      /* wire size of a fixed-width kind, 0 for variable-size kinds */
    Py_ssize_t elem_fixed; /* K_ARRAY: the same for its elements */
    Py_ssize_t run;        /* regular fields: this and the next run-1 fields are fixed-width */
    Py_ssize_t run_size;   /* ... and take run_size bytes together: one bounds check */
    Schema *sub;           /* K_STRUCT, or K_ARRAY of K_STRUCT; owned via sub_capsule */
    PyObject *sub_capsule; /* strong reference keeping *sub alive */
} Field;

/*
 * A default struct instance, as a recipe to rebuild it without calling its class.
 *
 * DEFAULT_STRUCT means "value()": a generated class whose __init__ only assigns defaults.
 * Calling it per decoded struct runs a Python frame, which costs more than decoding the rest
 * of a Fetch partition. So at compile time we call value() once and, if every slot of the
 * result is an immutable (None, bool, int, float, str, bytes, UUID), an empty list or such a
 * struct itself, record how to rebuild an equal, independent instance: share the
 * immutables, make new lists, rebuild nested structs. Anything else keeps calling value().
 */
enum { T_SHARE, T_NEWLIST, T_CLONE };

typedef struct Template Template;

typedef struct {
    Py_ssize_t offset;
    int action;            /* T_SHARE: value; T_NEWLIST: []; T_CLONE: rebuild sub */
    PyObject *value;       /* T_SHARE: strong reference */
    Template *sub;         /* T_CLONE: owned */
} TemplateSlot;

struct Template {
    PyTypeObject *cls;     /* strong reference */
    Py_ssize_t nslots;
    TemplateSlot *slots;
};

typedef struct {
    Py_ssize_t offset;
    int mode;
    PyObject *value;       /* strong reference */
    Template *tmpl;        /* DEFAULT_STRUCT: how to rebuild value() (NULL: call value()) */
} Default;

struct Schema {
    PyTypeObject *cls;     /* strong reference */
    int flexible;
    int height;            /* 1 + height of the deepest sub-schema */
    Py_ssize_t nfields, ntagged, ndefaults, nreserved;
    Field *fields;
    Field *tagged;
    Default *defaults;
    uint32_t *reserved;
    Py_ssize_t unknown_offset; /* slot unknown_tagged_fields */
    Py_ssize_t min_size;       /* minimum wire size of one instance */
};

static void
template_free(Template *t)
{
    Py_ssize_t i;
    if (t == NULL)
        return;
    Py_XDECREF(t->cls);
    if (t->slots)
        for (i = 0; i < t->nslots; i++) {
            Py_XDECREF(t->slots[i].value);
            template_free(t->slots[i].sub);
        }
    PyMem_Free(t->slots);
    PyMem_Free(t);
}

static void
schema_free(Schema *s)
{
    Py_ssize_t i;
    if (s == NULL)
        return;
    Py_XDECREF(s->cls);
    if (s->fields)
        for (i = 0; i < s->nfields; i++)
            Py_XDECREF(s->fields[i].sub_capsule);
    if (s->tagged)
        for (i = 0; i < s->ntagged; i++)
            Py_XDECREF(s->tagged[i].sub_capsule);
    if (s->defaults)
        for (i = 0; i < s->ndefaults; i++) {
            Py_XDECREF(s->defaults[i].value);
            template_free(s->defaults[i].tmpl);
        }
    PyMem_Free(s->fields);
    PyMem_Free(s->tagged);
    PyMem_Free(s->defaults);
    PyMem_Free(s->reserved);
    PyMem_Free(s);
}

static void
schema_capsule_destructor(PyObject *capsule)
{
    schema_free((Schema *)PyCapsule_GetPointer(capsule, SCHEMA_CAPSULE));
}

/* Small direct-mapped cache in front of schema_cache: decode() of an already compiled schema
 * costs one pointer compare. Keys are borrowed: schema_cache keeps every key alive forever. */
#define FAST_CACHE_SIZE 256
static struct {
    PyObject *key;
    Schema *schema;
} fast_cache[FAST_CACHE_SIZE];

static inline size_t
fast_cache_index(PyObject *key)
{
    uintptr_t k = (uintptr_t)key;
    return (size_t)((k >> 4) ^ (k >> 12)) & (FAST_CACHE_SIZE - 1);
}

/*
 * Offset of the __slots__ slot `name` of `cls`.
 *
 * A slot is implemented by a member descriptor on the class (found through the MRO by
 * _PyType_Lookup, which returns a BORROWED reference and sets no exception). Its PyMemberDef
 * records the byte offset inside instances; T_OBJECT_EX means "a PyObject* that raises
 * AttributeError while NULL", the only kind __slots__ creates. We also require that the
 * descriptor belongs to a base of cls, so the offset is valid for cls's instances.
 */
static int
slot_offset(PyTypeObject *cls, PyObject *name, Py_ssize_t *offset)
{
    PyObject *descr;
    PyMemberDef *m;

    if (!PyUnicode_Check(name)) {
        PyErr_Format(PyExc_TypeError, "slot name must be str, not %.100s", Py_TYPE(name)->tp_name);
        return -1;
    }
    descr = _PyType_Lookup(cls, name); /* borrowed */
    if (descr == NULL || !Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_TypeError, "%.100s.%U is not a __slots__ member", cls->tp_name, name);
        return -1;
    }
    if (!PyType_IsSubtype(cls, PyDescr_TYPE(descr))) {
        PyErr_Format(PyExc_TypeError, "%.100s.%U: member of an unrelated type", cls->tp_name, name);
        return -1;
    }
    m = ((PyMemberDescrObject *)descr)->d_member;
    if (m->type != Py_T_OBJECT_EX || (m->flags & Py_READONLY) || m->offset <= 0) {
        PyErr_Format(PyExc_TypeError, "%.100s.%U is not a writable object slot", cls->tp_name, name);
        return -1;
    }
    *offset = m->offset;
    return 0;
}

/* Every object slot of cls (through its heap-type bases) is among `offsets`: otherwise an
 * instance would be left with a NULL slot, i.e. an attribute that raises AttributeError. */
static int
check_slots_covered(PyTypeObject *cls, const Py_ssize_t *offsets, Py_ssize_t n)
{
    PyObject *mro = cls->tp_mro; /* borrowed tuple */
    Py_ssize_t i, j, k;

    if (mro == NULL || !PyTuple_Check(mro)) {
        PyErr_SetString(PyExc_TypeError, "schema class has no MRO");
        return -1;
    }
    for (i = 0; i < n; i++)
        for (j = i + 1; j < n; j++)
            if (offsets[i] == offsets[j]) {
                PyErr_Format(PyExc_TypeError, "schema of %.100s sets a slot more than once", cls->tp_name);
                return -1;
            }
    for (i = 0; i < PyTuple_GET_SIZE(mro); i++) {
        PyTypeObject *t = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        PyMemberDef *m;
        if (!(t->tp_flags & Py_TPFLAGS_HEAPTYPE) || t->tp_members == NULL)
            continue;
        for (m = t->tp_members; m->name != NULL; m++) {
            if (m->type != Py_T_OBJECT_EX)
                continue;
            for (k = 0, j = 0; j < n; j++)
                if (offsets[j] == m->offset)
                    k++;
            if (k == 0) {
                PyErr_Format(PyExc_TypeError, "schema of %.100s never sets slot %s", cls->tp_name, m->name);
                return -1;
            }
        }
    }
    return 0;
}

/*
 * A Template rebuilding `proto` (see Template). Returns 1 and sets *out, 0 when proto cannot
 * be rebuilt that way (no exception set), -1 on error.
 */
static int
build_template(PyObject *proto, int depth, Template **out)
{
    PyTypeObject *cls = Py_TYPE(proto);
    PyObject *mro = cls->tp_mro;
    Template *t;
    Py_ssize_t i, n = 0, k = 0;
    int rc = 0;

    *out = NULL;
    /* Only plain __slots__ classes: no instance dict, nothing but object slots to copy. */
    if (depth > MAX_SCHEMA_DEPTH || !(cls->tp_flags & Py_TPFLAGS_HEAPTYPE) || cls->tp_dictoffset != 0 ||
        cls->tp_itemsize != 0 || cls->tp_alloc == NULL || mro == NULL || !PyTuple_Check(mro))
        return 0;
    for (i = 0; i < PyTuple_GET_SIZE(mro); i++) {
        PyTypeObject *b = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        PyMemberDef *m;
        if (b == &PyBaseObject_Type)
            continue;
        if (!(b->tp_flags & Py_TPFLAGS_HEAPTYPE) || b->tp_dictoffset != 0)
            return 0; /* a builtin base may keep C state we would not copy */
        for (m = b->tp_members; m != NULL && m->name != NULL; m++)
            if (m->type == Py_T_OBJECT_EX)
                n++;
    }
    t = PyMem_Calloc(1, sizeof(Template));
    if (t == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    t->cls = (PyTypeObject *)Py_NewRef(cls);
    t->slots = PyMem_Calloc(n ? n : 1, sizeof(TemplateSlot));
    if (t->slots == NULL) {
        PyErr_NoMemory();
        rc = -1;
        goto done;
    }
    for (i = 0; i < PyTuple_GET_SIZE(mro); i++) {
        PyTypeObject *b = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        PyMemberDef *m;
        if (b == &PyBaseObject_Type)
            continue;
        for (m = b->tp_members; m != NULL && m->name != NULL; m++) {
            TemplateSlot *ts;
            PyObject *v;
            if (m->type != Py_T_OBJECT_EX)
                continue;
            ts = &t->slots[k++];
            t->nslots = k;
            ts->offset = m->offset;
            v = SLOT(proto, m->offset); /* borrowed */
            if (v == NULL)
                goto done; /* unset slot: not a plain default struct */
            if (v == Py_None || PyBool_Check(v) || PyLong_CheckExact(v) || PyFloat_CheckExact(v) ||
                PyUnicode_CheckExact(v) || PyBytes_CheckExact(v) || (PyObject *)Py_TYPE(v) == uuid_type) {
                ts->action = T_SHARE;
                ts->value = Py_NewRef(v);
            }
            else if (PyList_CheckExact(v) && PyList_GET_SIZE(v) == 0) {
                ts->action = T_NEWLIST;
            }
            else {
                ts->action = T_CLONE;
                if ((rc = build_template(v, depth + 1, &ts->sub)) != 1)
                    goto done;
            }
        }
    }
    rc = 1;
done:
    if (rc == 1)
        *out = t;
    else
        template_free(t);
    return rc;
}

/* A new instance rebuilt from t; a new reference or NULL with an exception set. */
static PyObject *
template_new(const Template *t)
{
    Py_ssize_t i;
    PyObject *obj = t->cls->tp_alloc(t->cls, 0), *v;
    if (obj == NULL)
        return NULL;
    for (i = 0; i < t->nslots; i++) {
        const TemplateSlot *ts = &t->slots[i];
        switch (ts->action) {
        case T_SHARE: v = Py_NewRef(ts->value); break;
        case T_NEWLIST: v = PyList_New(0); break;
        default: v = template_new(ts->sub); break;
        }
        if (v == NULL) {
            Py_DECREF(obj);
            return NULL;
        }
        SLOT(obj, ts->offset) = v; /* each slot listed once: never overwrites */
    }
    return obj;
}

static int
as_small_int(PyObject *o, long lo, long hi, const char *what, long *out)
{
    long v = PyLong_AsLong(o);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (v < lo || v > hi) {
        PyErr_Format(PyExc_ValueError, "schema: %s %ld out of range", what, v);
        return -1;
    }
    *out = v;
    return 0;
}

static Schema *get_schema(PyObject *tuple, int depth, PyObject **capsule_out);

/* Wire size of a fixed-width kind; 0 for the variable-size ones. */
static Py_ssize_t
kind_fixed_size(int kind)
{
    switch (kind) {
    case K_BOOL: case K_INT8: return 1;
    case K_INT16: case K_UINT16: return 2;
    case K_INT32: case K_UINT32: return 4;
    case K_INT64: case K_FLOAT64: return 8;
    case K_UUID: return 16;
    default: return 0;
    }
}

/* Minimum wire size of a non-null value of `kind` (a null is never larger). */
static Py_ssize_t
kind_min_size(int kind, int compact, int nullable, const Schema *sub)
{
    switch (kind) {
    case K_BOOL: case K_INT8: return 1;
    case K_INT16: case K_UINT16: return 2;
    case K_INT32: case K_UINT32: return 4;
    case K_INT64: case K_FLOAT64: return 8;
    case K_UUID: return 16;
    case K_STRING: return compact ? 1 : 2;
    case K_BYTES: case K_RECORDS: case K_ARRAY: return compact ? 1 : 4;
    case K_STRUCT: return nullable ? 1 : sub->min_size;
    default: return 1;
    }
}

/*
 * Parse one field description starting at item `first` of tuple `t`:
 * (kind, nullable, compact, slot_name, elem_kind, sub).
 */
static int
compile_field(Schema *s, PyObject *t, Py_ssize_t first, Field *f, int depth)
{
    long kind, elem_kind;
    int nullable, compact;
    PyObject *sub_tuple;

    if (as_small_int(PyTuple_GET_ITEM(t, first), K_BOOL, K_ARRAY, "kind", &kind) < 0)
        return -1;
    if ((nullable = PyObject_IsTrue(PyTuple_GET_ITEM(t, first + 1))) < 0)
        return -1;
    if ((compact = PyObject_IsTrue(PyTuple_GET_ITEM(t, first + 2))) < 0)
        return -1;
    if (slot_offset(s->cls, PyTuple_GET_ITEM(t, first + 3), &f->offset) < 0)
        return -1;
    f->kind = (uint8_t)kind;
    f->nullable = (uint8_t)nullable;
    f->compact = (uint8_t)compact;
    f->elem_kind = 0;
    sub_tuple = PyTuple_GET_ITEM(t, first + 5);
    if (kind == K_ARRAY) {
        if (as_small_int(PyTuple_GET_ITEM(t, first + 4), K_BOOL, K_STRUCT, "array element kind",
                         &elem_kind) < 0)
            return -1;
        f->elem_kind = (uint8_t)elem_kind;
    }
    if (kind == K_STRUCT || (kind == K_ARRAY && f->elem_kind == K_STRUCT)) {
        PyObject *capsule;
        f->sub = get_schema(sub_tuple, depth + 1, &capsule);
        if (f->sub == NULL)
            return -1;
        f->sub_capsule = Py_NewRef(capsule);
        if (f->sub->height + 1 > s->height)
            s->height = f->sub->height + 1;
    }
    if (kind == K_ARRAY) {
        f->elem_min = kind_min_size(f->elem_kind, compact, 0, f->sub);
        f->elem_fixed = kind_fixed_size(f->elem_kind);
    }
    f->fixed = kind_fixed_size(f->kind);
    return 0;
}

static Schema *
compile_schema(PyObject *tuple, int depth)
{
    Schema *s = NULL;
    PyObject *cls, *fields, *tagged, *defaults, *reserved, *name;
    Py_ssize_t i, n_offsets = 0, *offsets = NULL;
    int flexible;

    if (!PyTuple_Check(tuple) || PyTuple_GET_SIZE(tuple) != 6) {
        PyErr_SetString(PyExc_TypeError, "schema must be a 6-tuple "
                        "(cls, flexible, fields, tagged, defaults, reserved_tags)");
        return NULL;
    }
    cls = PyTuple_GET_ITEM(tuple, 0);
    fields = PyTuple_GET_ITEM(tuple, 2);
    tagged = PyTuple_GET_ITEM(tuple, 3);
    defaults = PyTuple_GET_ITEM(tuple, 4);
    reserved = PyTuple_GET_ITEM(tuple, 5);
    if (!PyType_Check(cls) || !PyTuple_Check(fields) || !PyTuple_Check(tagged) ||
        !PyTuple_Check(defaults) || !PyTuple_Check(reserved)) {
        PyErr_SetString(PyExc_TypeError, "schema: bad element types");
        return NULL;
    }
    if (((PyTypeObject *)cls)->tp_alloc == NULL || ((PyTypeObject *)cls)->tp_itemsize != 0) {
        PyErr_Format(PyExc_TypeError, "schema: cannot allocate %.100s directly",
                     ((PyTypeObject *)cls)->tp_name);
        return NULL;
    }
    if ((flexible = PyObject_IsTrue(PyTuple_GET_ITEM(tuple, 1))) < 0)
        return NULL;

    s = PyMem_Calloc(1, sizeof(Schema));
    if (s == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    s->cls = (PyTypeObject *)Py_NewRef(cls);
    s->flexible = flexible;
    s->height = 1;
    s->nfields = PyTuple_GET_SIZE(fields);
    s->ntagged = PyTuple_GET_SIZE(tagged);
    s->ndefaults = PyTuple_GET_SIZE(defaults);
    s->nreserved = PyTuple_GET_SIZE(reserved);
    if (s->ntagged && !flexible) {
        PyErr_SetString(PyExc_ValueError, "schema: tagged fields in a non-flexible struct");
        goto fail;
    }
    s->fields = PyMem_Calloc(s->nfields ? s->nfields : 1, sizeof(Field));
    s->tagged = PyMem_Calloc(s->ntagged ? s->ntagged : 1, sizeof(Field));
    s->defaults = PyMem_Calloc(s->ndefaults ? s->ndefaults : 1, sizeof(Default));
    s->reserved = PyMem_Calloc(s->nreserved ? s->nreserved : 1, sizeof(uint32_t));
    offsets = PyMem_Calloc(s->nfields + s->ndefaults + 1, sizeof(Py_ssize_t));
    if (!s->fields || !s->tagged || !s->defaults || !s->reserved || !offsets) {
        PyErr_NoMemory();
        goto fail;
    }

    s->min_size = flexible ? 1 : 0; /* the tagged-field count */
    for (i = 0; i < s->nfields; i++) {
        PyObject *t = PyTuple_GET_ITEM(fields, i);
        Field *f = &s->fields[i];
        if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 6) {
            PyErr_SetString(PyExc_TypeError, "schema: a field must be a 6-tuple");
            goto fail;
        }
        if (compile_field(s, t, 0, f, depth) < 0)
            goto fail;
        s->min_size += kind_min_size(f->kind, f->compact, f->nullable, f->sub);
        offsets[n_offsets++] = f->offset;
    }
    /* Runs of consecutive fixed-width fields, from the back: run[i] = 1 + run[i+1]. */
    for (i = s->nfields - 1; i >= 0; i--) {
        Field *f = &s->fields[i];
        if (f->fixed == 0)
            continue;
        f->run = 1;
        f->run_size = f->fixed;
        if (i + 1 < s->nfields && s->fields[i + 1].fixed) {
            f->run += s->fields[i + 1].run;
            f->run_size += s->fields[i + 1].run_size;
        }
    }
    for (i = 0; i < s->ntagged; i++) {
        PyObject *t = PyTuple_GET_ITEM(tagged, i);
        Field *f = &s->tagged[i];
        long tag;
        Py_ssize_t j;
        if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 7) {
            PyErr_SetString(PyExc_TypeError, "schema: a tagged field must be a 7-tuple");
            goto fail;
        }
        if (as_small_int(PyTuple_GET_ITEM(t, 0), 0, 0x7FFFFFFF, "tag", &tag) < 0)
            goto fail;
        f->tag = (uint32_t)tag;
        if (compile_field(s, t, 1, f, depth) < 0)
            goto fail;
        for (j = 0; j < i; j++)
            if (s->tagged[j].tag == f->tag) {
                PyErr_Format(PyExc_ValueError, "schema: tag %ld listed twice", tag);
                goto fail;
            }
    }
    for (i = 0; i < s->ndefaults; i++) {
        PyObject *t = PyTuple_GET_ITEM(defaults, i);
        Default *d = &s->defaults[i];
        long mode;
        if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 3) {
            PyErr_SetString(PyExc_TypeError, "schema: a default must be a 3-tuple");
            goto fail;
        }
        if (slot_offset(s->cls, PyTuple_GET_ITEM(t, 0), &d->offset) < 0)
            goto fail;
        if (as_small_int(PyTuple_GET_ITEM(t, 1), DEFAULT_CONST, DEFAULT_STRUCT, "default mode", &mode) < 0)
            goto fail;
        d->mode = (int)mode;
        d->value = Py_NewRef(PyTuple_GET_ITEM(t, 2));
        if (d->mode == DEFAULT_STRUCT) {
            PyObject *proto;
            int rc;
            if (!PyCallable_Check(d->value)) {
                PyErr_SetString(PyExc_TypeError, "schema: DEFAULT_STRUCT value must be callable");
                goto fail;
            }
            proto = PyObject_CallNoArgs(d->value);
            if (proto == NULL)
                goto fail;
            /* Only when value is the class of what it returns: then value() is that class's
             * constructor and rebuilding its result is what calling it again gives. */
            rc = (PyObject *)Py_TYPE(proto) == d->value ? build_template(proto, 0, &d->tmpl) : 0;
            Py_DECREF(proto);
            if (rc < 0)
                goto fail;
        }
        offsets[n_offsets++] = d->offset;
    }
    for (i = 0; i < s->nreserved; i++) {
        long tag;
        if (as_small_int(PyTuple_GET_ITEM(reserved, i), 0, 0x7FFFFFFF, "reserved tag", &tag) < 0)
            goto fail;
        s->reserved[i] = (uint32_t)tag;
    }

    name = PyUnicode_InternFromString("unknown_tagged_fields");
    if (name == NULL)
        goto fail;
    i = slot_offset(s->cls, name, &s->unknown_offset);
    Py_DECREF(name);
    if (i < 0)
        goto fail;
    offsets[n_offsets++] = s->unknown_offset;

    /* Each slot is written exactly once by fields/defaults/unknown (so stores into a fresh
     * instance never overwrite, and never leave a NULL); tagged fields overwrite a default. */
    if (check_slots_covered(s->cls, offsets, n_offsets) < 0)
        goto fail;
    for (i = 0; i < s->ntagged; i++) {
        Py_ssize_t j;
        for (j = 0; j < s->ndefaults; j++)
            if (s->defaults[j].offset == s->tagged[i].offset)
                break;
        if (j == s->ndefaults) {
            PyErr_Format(PyExc_ValueError, "schema of %.100s: tagged field %u has no default",
                         s->cls->tp_name, (unsigned)s->tagged[i].tag);
            goto fail;
        }
    }
    if (s->height > MAX_SCHEMA_DEPTH) {
        PyErr_SetString(PyExc_ValueError, "schema nests too deeply");
        goto fail;
    }
    PyMem_Free(offsets);
    return s;

fail:
    PyMem_Free(offsets);
    schema_free(s);
    return NULL;
}

/*
 * The compiled form of schema tuple `tuple`, compiling it (and its sub-schemas) on first use.
 * Returns a pointer owned by the cache (valid for the life of the module) and, when
 * capsule_out is given, the capsule holding it (BORROWED from the cache).
 */
static Schema *
get_schema(PyObject *tuple, int depth, PyObject **capsule_out)
{
    PyObject *key, *entry, *capsule;
    Schema *s;
    size_t idx = fast_cache_index(tuple);

    if (fast_cache[idx].key == tuple && capsule_out == NULL)
        return fast_cache[idx].schema;
    if (depth > MAX_SCHEMA_DEPTH) {
        PyErr_SetString(PyExc_ValueError, "schema nests too deeply");
        return NULL;
    }
    key = PyLong_FromVoidPtr(tuple);
    if (key == NULL)
        return NULL;
    entry = PyDict_GetItemWithError(schema_cache, key); /* borrowed */
    if (entry == NULL) {
        if (PyErr_Occurred())
            goto fail;
        s = compile_schema(tuple, depth);
        if (s == NULL)
            goto fail;
        capsule = PyCapsule_New(s, SCHEMA_CAPSULE, schema_capsule_destructor);
        if (capsule == NULL) {
            schema_free(s);
            goto fail;
        }
        /* The entry holds the tuple: while cached, id(tuple) cannot be reused. */
        entry = PyTuple_Pack(2, capsule, tuple);
        Py_DECREF(capsule);
        if (entry == NULL)
            goto fail;
        if (PyDict_SetItem(schema_cache, key, entry) < 0) {
            Py_DECREF(entry);
            goto fail;
        }
        Py_DECREF(entry); /* the dict holds it now */
    }
    Py_DECREF(key);
    capsule = PyTuple_GET_ITEM(entry, 0);
    s = (Schema *)PyCapsule_GetPointer(capsule, SCHEMA_CAPSULE);
    if (s == NULL)
        return NULL;
    fast_cache[idx].key = tuple;
    fast_cache[idx].schema = s;
    if (capsule_out)
        *capsule_out = capsule;
    return s;

fail:
    Py_DECREF(key);
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Decoding.                                                                                  */

typedef struct {
    const uint8_t *buf;
    Py_ssize_t len;
    PyObject *src;  /* the object passed to decode() (borrowed) */
    PyObject *mv;   /* memoryview sliced for K_RECORDS: src itself, or created lazily */
    int mv_owned;
} Reader;

/* Set Malformed(msg); returns -1 so int readers can `return malformed(...)`. */
static int
malformed(const char *msg)
{
    PyErr_SetString(Malformed, msg);
    return -1;
}

static inline uint32_t
be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t
be64(const uint8_t *p)
{
    return ((uint64_t)be32(p) << 32) | be32(p + 4);
}

/* Kafka's readUnsignedVarint: at most 5 bytes, value must fit 32 bits. */
static inline int
read_uvarint(const Reader *r, Py_ssize_t *pos, Py_ssize_t limit, uint32_t *out)
{
    Py_ssize_t p = *pos;
    uint64_t value;
    int shift;
    uint8_t b;

    if (p >= limit)
        return malformed("varint runs past the end of the buffer");
    b = r->buf[p++];
    if (b < 0x80) {
        *out = b;
        *pos = p;
        return 0;
    }
    value = b & 0x7F;
    for (shift = 7;; shift += 7) {
        if (shift >= 35)
            return malformed("varint is longer than 5 bytes");
        if (p >= limit)
            return malformed("varint runs past the end of the buffer");
        b = r->buf[p++];
        value |= (uint64_t)(b & 0x7F) << shift;
        if (b < 0x80)
            break;
    }
    if (value > 0xFFFFFFFFu)
        return malformed("varint does not fit 32 bits");
    *out = (uint32_t)value;
    *pos = p;
    return 0;
}

/*
 * A length or count prefix: int16 (wide16) / int32, or compact uvarint N+1 (0 = null).
 * Sets *n to the length, -1 for null. Rejects negative lengths other than -1.
 */
static inline int
read_length(const Reader *r, Py_ssize_t *pos, Py_ssize_t limit, int compact, int wide16, int64_t *n)
{
    Py_ssize_t p = *pos;
    if (compact) {
        uint32_t v;
        if (read_uvarint(r, pos, limit, &v) < 0)
            return -1;
        *n = (int64_t)v - 1;
        return 0;
    }
    if (wide16) {
        if (limit - p < 2)
            return malformed("length runs past the end of the buffer");
        *n = (int16_t)(((uint16_t)r->buf[p] << 8) | r->buf[p + 1]);
        *pos = p + 2;
    }
    else {
        if (limit - p < 4)
            return malformed("length runs past the end of the buffer");
        *n = (int32_t)be32(r->buf + p);
        *pos = p + 4;
    }
    if (*n < -1)
        return malformed("negative length");
    return 0;
}

/* A new uuid.UUID for the 16 big-endian bytes at p (without running UUID.__init__). */
static PyObject *
make_uuid(const uint8_t *p)
{
    PyObject *value, *u;

#if PY_VERSION_HEX >= 0x030D0000
    value = PyLong_FromUnsignedNativeBytes(p, 16, Py_ASNATIVEBYTES_BIG_ENDIAN);
#else
    value = _PyLong_FromByteArray(p, 16, /*little_endian=*/0, /*is_signed=*/0);
#endif
    if (value == NULL)
        return NULL;
    if (uuid_int_off < 0) { /* slots not usable on this Python: the public constructor */
        PyObject *kwargs = Py_BuildValue("{sN}", "int", value); /* N: steals value */
        if (kwargs == NULL)
            return NULL;
        PyObject *noargs = PyTuple_New(0);
        if (noargs == NULL) {
            Py_DECREF(kwargs);
            return NULL;
        }
        u = PyObject_Call(uuid_type, noargs, kwargs);
        Py_DECREF(noargs);
        Py_DECREF(kwargs);
        return u;
    }
    u = ((PyTypeObject *)uuid_type)->tp_alloc((PyTypeObject *)uuid_type, 0);
    if (u == NULL) {
        Py_DECREF(value);
        return NULL;
    }
    SLOT(u, uuid_int_off) = value;                       /* steals value */
    SLOT(u, uuid_safe_off) = Py_NewRef(uuid_unknown);
    return u;
}

/* Shared int objects for common small values (error codes, ids, indexes, counts): like
 * CPython's own small-int cache, just wider. ints are immutable, so sharing is invisible. */
#define INT_CACHE_MIN (-256)
#define INT_CACHE_MAX 4096
static PyObject *int_cache[INT_CACHE_MAX - INT_CACHE_MIN];

static inline PyObject *
new_int(long v)
{
    if (v >= INT_CACHE_MIN && v < INT_CACHE_MAX)
        return Py_NewRef(int_cache[v - INT_CACHE_MIN]);
    return PyLong_FromLong(v);
}

/* The fixed-width value of `kind` at p; the caller has checked kind_fixed_size(kind) bytes. */
static inline PyObject *
read_fixed(int kind, const uint8_t *p)
{
    switch (kind) {
    case K_BOOL:
        return Py_NewRef(p[0] ? Py_True : Py_False); /* any nonzero byte, as struct's '?' */
    case K_INT8:
        return new_int((int8_t)p[0]);
    case K_INT16:
        return new_int((int16_t)(((uint16_t)p[0] << 8) | p[1]));
    case K_UINT16:
        return new_int(((long)p[0] << 8) | p[1]);
    case K_INT32:
        return new_int((int32_t)be32(p));
    case K_UINT32: {
        uint32_t v = be32(p);
        return v < INT_CACHE_MAX ? new_int((long)v) : PyLong_FromUnsignedLong(v);
    }
    case K_INT64: {
        int64_t v = (int64_t)be64(p);
        return (v >= INT_CACHE_MIN && v < INT_CACHE_MAX) ? new_int((long)v) : PyLong_FromLongLong(v);
    }
    case K_FLOAT64: {
        uint64_t bits = be64(p);
        double d;
        memcpy(&d, &bits, sizeof d); /* IEEE 754 binary64, as struct's '>d' */
        return PyFloat_FromDouble(d);
    }
    case K_UUID:
        return make_uuid(p);
    }
    PyErr_SetString(PyExc_SystemError, "chronik._accel: not a fixed-width kind");
    return NULL;
}

static PyObject *decode_struct(Reader *r, const Schema *s, Py_ssize_t *pos, Py_ssize_t limit);
static PyObject *read_array(Reader *r, const Field *f, Py_ssize_t *pos, Py_ssize_t limit);

/* Records: buf[start:end] of the caller's memoryview, a zero-copy view like the Python codec. */
static PyObject *
records_slice(Reader *r, Py_ssize_t start, Py_ssize_t end)
{
    PyObject *v;
    Py_buffer *view;

    if (r->mv == NULL) {
        r->mv = PyMemoryView_FromObject(r->src);
        if (r->mv == NULL)
            return NULL;
        r->mv_owned = 1;
    }
    /*
     * r->mv[start:end] without building a slice object and two ints (a third of the cost
     * of a small partition). PyMemoryView_FromObject(mv) registers a new view on mv's
     * managed buffer -- same exporter (.obj), same export bookkeeping, a private copy of
     * mv's layout -- which we narrow exactly as memoryview's own slicing does: advance buf,
     * set len and shape[0]. mv is a C-contiguous 1-D view of bytes (checked in decode), so
     * the stride stays 1 and the contiguity flags computed for the copy remain right.
     * The new object is not visible to anyone else until we return it.
     */
    v = PyMemoryView_FromObject(r->mv);
    if (v == NULL)
        return NULL;
    view = PyMemoryView_GET_BUFFER(v);
    if (view->ndim != 1 || view->itemsize != 1 || view->shape == NULL || view->strides == NULL ||
        view->strides[0] != 1 || view->suboffsets != NULL || view->len != r->len) {
        Py_DECREF(v); /* unexpected layout: let memoryview slice itself */
        return PySequence_GetSlice(r->mv, start, end);
    }
    view->buf = (char *)view->buf + start;
    view->len = end - start;
    view->shape[0] = end - start;
    return v;
}

/*
 * One value of `kind` at *pos (not past `limit`); a new reference, Py_None for a null.
 * `sub` is the struct schema (K_STRUCT), `f` the array field (K_ARRAY).
 */
static PyObject *
read_value(Reader *r, int kind, int nullable, int compact, const Schema *sub, const Field *f,
           Py_ssize_t *pos, Py_ssize_t limit)
{
    const uint8_t *b = r->buf;
    Py_ssize_t p = *pos;
    int64_t n;
    PyObject *v;

#define NEED(k) do { if (limit - p < (k)) { malformed("value runs past the end of the buffer"); return NULL; } } while (0)
    switch (kind) {
    case K_BOOL: case K_INT8: case K_INT16: case K_UINT16: case K_INT32: case K_UINT32:
    case K_INT64: case K_FLOAT64: case K_UUID: {
        Py_ssize_t size = kind_fixed_size(kind);
        NEED(size);
        v = read_fixed(kind, b + p);
        if (v != NULL)
            *pos = p + size;
        return v;
    }
    case K_STRING:
    case K_BYTES:
    case K_RECORDS:
        if (read_length(r, &p, limit, compact, kind == K_STRING, &n) < 0)
            return NULL;
        if (n < 0) {
            if (!nullable) {
                malformed("null for a non-nullable field");
                return NULL;
            }
            *pos = p;
            return Py_NewRef(Py_None);
        }
        if (n > (int64_t)(limit - p)) {
            malformed("length runs past the end of the buffer");
            return NULL;
        }
        if (kind == K_STRING) {
            v = PyUnicode_DecodeUTF8((const char *)b + p, (Py_ssize_t)n, NULL); /* strict */
            if (v == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
                PyErr_Clear();
                malformed("string is not valid UTF-8");
            }
        }
        else if (kind == K_BYTES)
            v = PyBytes_FromStringAndSize((const char *)b + p, (Py_ssize_t)n);
        else
            v = records_slice(r, p, p + (Py_ssize_t)n);
        if (v != NULL)
            *pos = p + (Py_ssize_t)n;
        return v;
    case K_STRUCT:
        if (nullable) {
            /* int8 marker: negative is null (Kafka reads readByte() < 0), else the struct follows */
            NEED(1);
            if (b[p] & 0x80) {
                *pos = p + 1;
                return Py_NewRef(Py_None);
            }
            p += 1;
        }
        v = decode_struct(r, sub, &p, limit);
        if (v != NULL)
            *pos = p;
        return v;
    case K_ARRAY:
        return read_array(r, f, pos, limit);
    }
#undef NEED
    PyErr_SetString(PyExc_SystemError, "chronik._accel: bad field kind");
    return NULL;
}

static PyObject *
read_array(Reader *r, const Field *f, Py_ssize_t *pos, Py_ssize_t limit)
{
    Py_ssize_t p = *pos, i, count;
    int64_t n;
    PyObject *list, *item;
    int prealloc;

    if (read_length(r, &p, limit, f->compact, 0, &n) < 0)
        return NULL;
    if (n < 0) {
        if (!f->nullable) {
            malformed("null for a non-nullable array");
            return NULL;
        }
        *pos = p;
        return Py_NewRef(Py_None);
    }
    /* Like Kafka (and the Python codec), refuse counts the remaining bytes cannot hold. */
    if (n > (int64_t)(limit - p) || (uint64_t)n * (uint64_t)f->elem_min > (uint64_t)(limit - p)) {
        malformed("array count cannot fit in the bytes left");
        return NULL;
    }
    count = (Py_ssize_t)n;
    if (f->elem_fixed) {
        /* Fixed-width elements: the check above (elem_min == elem_fixed) proved all `count`
         * of them are in the buffer, so read them without further bounds checks. */
        const uint8_t *b = r->buf + p;
        list = PyList_New(count);
        if (list == NULL)
            return NULL;
        for (i = 0; i < count; i++, b += f->elem_fixed) {
            item = read_fixed(f->elem_kind, b);
            if (item == NULL)
                goto fail;
            PyList_SET_ITEM(list, i, item); /* steals item */
        }
        *pos = p + count * f->elem_fixed;
        return list;
    }
    prealloc = count <= PREALLOC_MAX;
    list = PyList_New(prealloc ? count : 0);
    if (list == NULL)
        return NULL;
    /* A pre-sized list holds NULLs until filled: list_dealloc and GC traversal skip them. */
    for (i = 0; i < count; i++) {
        item = read_value(r, f->elem_kind, 0, f->compact, f->sub, NULL, &p, limit);
        if (item == NULL)
            goto fail;
        if (prealloc)
            PyList_SET_ITEM(list, i, item); /* steals item */
        else {
            int rc = PyList_Append(list, item); /* does not steal */
            Py_DECREF(item);
            if (rc < 0)
                goto fail;
        }
    }
    *pos = p;
    return list;

fail:
    Py_DECREF(list);
    return NULL;
}

static int
is_reserved(const Schema *s, uint32_t tag)
{
    Py_ssize_t i;
    for (i = 0; i < s->nreserved; i++)
        if (s->reserved[i] == tag)
            return 1;
    return 0;
}

/* The tagged-field section of `obj` (flexible structs). */
static int
read_tagged(Reader *r, const Schema *s, PyObject *obj, Py_ssize_t *pos, Py_ssize_t limit)
{
    Py_ssize_t p = *pos, i, end;
    uint32_t count, k, tag, size;

    if (read_uvarint(r, &p, limit, &count) < 0)
        return -1;
    for (k = 0; k < count; k++) {
        const Field *f = NULL;
        if (read_uvarint(r, &p, limit, &tag) < 0 || read_uvarint(r, &p, limit, &size) < 0)
            return -1;
        if ((int64_t)size > (int64_t)(limit - p))
            return malformed("tagged field runs past the end of the buffer");
        end = p + (Py_ssize_t)size;
        for (i = 0; i < s->ntagged; i++)
            if (s->tagged[i].tag == tag) {
                f = &s->tagged[i];
                break;
            }
        if (f != NULL) {
            /* Known tag: decode within its payload, which it must fill exactly. The slot
             * already holds its default (or an earlier copy of the tag): replace it. */
            PyObject *v = read_value(r, f->kind, f->nullable, f->compact, f->sub, f, &p, end);
            if (v == NULL)
                return -1;
            if (p != end) {
                Py_DECREF(v);
                return malformed("tagged field has the wrong size");
            }
            Py_XSETREF(SLOT(obj, f->offset), v);
        }
        else if (is_reserved(s, tag)) {
            return malformed("tag is not valid for this version");
        }
        else {
            /* Unknown tag: keep (tag, payload bytes); the slot holds None until the first. */
            PyObject *list = SLOT(obj, s->unknown_offset); /* borrowed */
            PyObject *item = Py_BuildValue("(ky#)", (unsigned long)tag, (const char *)r->buf + p,
                                           (Py_ssize_t)size);
            int rc;
            if (item == NULL)
                return -1;
            if (!PyList_CheckExact(list)) {
                list = PyList_New(0);
                if (list == NULL) {
                    Py_DECREF(item);
                    return -1;
                }
                Py_XSETREF(SLOT(obj, s->unknown_offset), list); /* slot owns the list */
            }
            rc = PyList_Append(list, item);
            Py_DECREF(item);
            if (rc < 0)
                return -1;
            p = end;
        }
    }
    *pos = p;
    return 0;
}

/* One instance of s->cls at *pos: a new reference, or NULL with an exception set. */
static PyObject *
decode_struct(Reader *r, const Schema *s, Py_ssize_t *pos, Py_ssize_t limit)
{
    Py_ssize_t p = *pos, i;
    PyObject *obj, *v;

    /* tp_alloc returns a zeroed instance (all slots NULL), GC-tracked for GC types; filling
     * its slots directly is what the slot descriptors' __set__ would do, without __init__. */
    obj = s->cls->tp_alloc(s->cls, 0);
    if (obj == NULL)
        return NULL;
    for (i = 0; i < s->ndefaults; i++) {
        const Default *d = &s->defaults[i];
        switch (d->mode) {
        case DEFAULT_CONST: v = Py_NewRef(d->value); break;
        case DEFAULT_LIST: v = PyList_New(0); break;
        default: v = d->tmpl ? template_new(d->tmpl) : PyObject_CallNoArgs(d->value); break;
        }
        if (v == NULL)
            goto fail;
        SLOT(obj, d->offset) = v; /* compile checked: each slot is set exactly once */
    }
    SLOT(obj, s->unknown_offset) = Py_NewRef(Py_None);
    for (i = 0; i < s->nfields;) {
        const Field *f = &s->fields[i];
        if (f->run) {
            /* A run of fixed-width fields: one bounds check for all of them. */
            const Field *stop = f + f->run;
            if (limit - p < f->run_size) {
                malformed("value runs past the end of the buffer");
                goto fail;
            }
            for (; f < stop; f++) {
                v = read_fixed(f->kind, r->buf + p);
                if (v == NULL)
                    goto fail;
                SLOT(obj, f->offset) = v;
                p += f->fixed;
            }
            i += s->fields[i].run;
            continue;
        }
        v = read_value(r, f->kind, f->nullable, f->compact, f->sub, f, &p, limit);
        if (v == NULL)
            goto fail;
        SLOT(obj, f->offset) = v;
        i++;
    }
    if (s->flexible && read_tagged(r, s, obj, &p, limit) < 0)
        goto fail;
    *pos = p;
    return obj;

fail:
    Py_DECREF(obj); /* dealloc clears the slots filled so far */
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Module functions.                                                                          */

static int
get_pos(PyObject *o, Py_ssize_t *pos)
{
    Py_ssize_t v = PyLong_CheckExact(o) ? PyLong_AsSsize_t(o) : PyNumber_AsSsize_t(o, PyExc_OverflowError);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (v < 0) {
        /* Malformed, not ValueError: callers treat Malformed as "let the Python decoder
         * decide", which keeps behaviour identical for odd arguments too. */
        PyErr_SetString(Malformed, "negative pos");
        return -1;
    }
    *pos = v;
    return 0;
}

PyDoc_STRVAR(decode_doc,
"decode(schema, buf, pos) -> (obj, new_pos)\n\n"
"Decode the struct described by `schema` (a generated SCHEMAS table) at `pos` of the\n"
"bytes-like `buf`. Records fields are zero-copy slices of `buf` when it is a memoryview.\n"
"Raises Malformed for any input the pure-Python decoder rejects (and for a negative pos\n"
"or a memoryview that is not 1-D unsigned bytes): the caller then runs that decoder.");

static PyObject *
accel_decode(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    const Schema *s;
    Py_buffer view;
    Reader r;
    Py_ssize_t pos;
    PyObject *obj, *v, *result = NULL;

    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "decode(schema, buf, pos) takes exactly 3 arguments");
        return NULL;
    }
    if (get_pos(args[2], &pos) < 0)
        return NULL;
    s = get_schema(args[0], 0, NULL);
    if (s == NULL)
        return NULL;
    if (PyMemoryView_Check(args[1])) {
        /* Slices of a memoryview index items: only 1-D views of unsigned bytes index and
         * slice like the byte offsets used here; leave anything else to the Python decoder. */
        Py_buffer *mb = PyMemoryView_GET_BUFFER(args[1]);
        if (mb->ndim != 1 || mb->itemsize != 1 ||
            (mb->format != NULL && strcmp(mb->format, "B") != 0)) {
            PyErr_SetString(Malformed, "memoryview is not 1-D unsigned bytes");
            return NULL;
        }
    }
    /* Holding the buffer pins it: a memoryview cannot be released, a bytearray not resized. */
    if (PyObject_GetBuffer(args[1], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    r.buf = (const uint8_t *)view.buf;
    r.len = view.len;
    r.src = args[1];
    r.mv = PyMemoryView_Check(args[1]) ? args[1] : NULL;
    r.mv_owned = 0;

    if (pos > r.len) {
        PyErr_SetString(Malformed, "pos is past the end of the buffer");
        goto done;
    }
    obj = decode_struct(&r, s, &pos, r.len);
    if (obj == NULL)
        goto done;
    result = PyTuple_New(2);
    if (result == NULL || (v = pos < INT_CACHE_MAX ? new_int((long)pos) : PyLong_FromSsize_t(pos)) == NULL) {
        Py_XDECREF(result);
        result = NULL;
        Py_DECREF(obj);
        goto done;
    }
    PyTuple_SET_ITEM(result, 0, obj); /* steals */
    PyTuple_SET_ITEM(result, 1, v);

done:
    if (r.mv_owned)
        Py_DECREF(r.mv);
    PyBuffer_Release(&view);
    return result;
}

PyDoc_STRVAR(compile_doc,
"compile(schema) -> None\n\n"
"Compile and cache `schema` now (decode() does it on first use); raises TypeError or\n"
"ValueError if the table cannot be used.");

static PyObject *
accel_compile(PyObject *module, PyObject *schema)
{
    if (get_schema(schema, 0, NULL) == NULL)
        return NULL;
    Py_RETURN_NONE;
}

/* ---- validate_records: the framing of an uncompressed v2 records section -------------------
 *
 * Kafka's LogValidator reads every record of a produced batch (DefaultRecord.readFrom) and
 * answers INVALID_RECORD for a malformed one. This walks the records without building Python
 * objects: zigzag varint length (the record must end exactly there), attributes, timestamp
 * delta (varlong), offset delta, key (-1 null), value (-1 null), header count (>= 0), headers
 * (key >= 0, value -1 null); exactly `count` records filling the section.
 */

static int
read_zigzag(const unsigned char *b, Py_ssize_t n, Py_ssize_t *p, int max_bytes, long long *out)
{
    unsigned long long raw = 0;
    int shift = 0;
    for (int i = 0; i < max_bytes; i++) {
        if (*p >= n)
            return -1;
        unsigned char c = b[(*p)++];
        raw |= (unsigned long long)(c & 0x7F) << shift;
        if (!(c & 0x80)) {
            if (max_bytes == 5) { /* an int32, as Java's ByteUtils.readVarint (high bits dropped) */
                unsigned int u = (unsigned int)raw;
                *out = (long long)(int)((u >> 1) ^ (0u - (u & 1u)));
            } else {
                *out = (long long)((raw >> 1) ^ (0ull - (raw & 1ull)));
            }
            return 0;
        }
        shift += 7;
    }
    return -2;
}

#define VFAIL(msg) do { PyErr_Format(Malformed, "record %zd: %s", index, msg); goto fail; } while (0)

static PyObject *
accel_validate_records(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view;
    long long count;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "validate_records(section, count)");
        return NULL;
    }
    count = PyLong_AsLongLong(args[1]);
    if (count == -1 && PyErr_Occurred())
        return NULL;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    const unsigned char *b = (const unsigned char *)view.buf;
    Py_ssize_t n = view.len, p = 0, index = 0;
    long long v;
    for (index = 0; index < count; index++) {
        long long length;
        if (read_zigzag(b, n, &p, 5, &length) != 0)
            VFAIL("truncated or overlong length varint");
        if (length < 0 || length > n - p)
            VFAIL("record length runs past the batch");
        Py_ssize_t end = p + (Py_ssize_t)length;
        if (p >= end)
            VFAIL("empty record");
        p += 1; /* attributes */
        if (read_zigzag(b, end, &p, 10, &v) != 0)
            VFAIL("bad timestamp delta");
        if (read_zigzag(b, end, &p, 5, &v) != 0)
            VFAIL("bad offset delta");
        for (int part = 0; part < 2; part++) { /* key, value */
            if (read_zigzag(b, end, &p, 5, &v) != 0)
                VFAIL(part ? "bad value length" : "bad key length");
            if (v < -1 || (v >= 0 && v > end - p))
                VFAIL(part ? "invalid value length" : "invalid key length");
            if (v > 0)
                p += (Py_ssize_t)v;
        }
        long long headers;
        if (read_zigzag(b, end, &p, 5, &headers) != 0 || headers < 0)
            VFAIL("invalid header count");
        for (long long h = 0; h < headers; h++) {
            if (read_zigzag(b, end, &p, 5, &v) != 0 || v < 0 || v > end - p)
                VFAIL("invalid header key length");
            p += (Py_ssize_t)v;
            if (read_zigzag(b, end, &p, 5, &v) != 0 || v < -1 || (v >= 0 && v > end - p))
                VFAIL("invalid header value length");
            if (v > 0)
                p += (Py_ssize_t)v;
        }
        if (p != end)
            VFAIL("record size does not match its contents");
    }
    if (p != n) {
        PyErr_Format(Malformed, "%zd bytes after the last of %lld records", n - p, count);
        goto fail;
    }
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
fail:
    PyBuffer_Release(&view);
    return NULL;
}

PyDoc_STRVAR(validate_records_doc,
"validate_records(section, count) -> None\n\n"
"Check the framing of an uncompressed v2 records section holding `count` records, as Kafka's\n"
"DefaultRecord.readFrom reads it; raise Malformed naming the first bad record.");

static PyMethodDef accel_methods[] = {
    {"validate_records", (PyCFunction)(void (*)(void))accel_validate_records, METH_FASTCALL, validate_records_doc},
    {"decode", (PyCFunction)(void (*)(void))accel_decode, METH_FASTCALL, decode_doc},
    {"compile", accel_compile, METH_O, compile_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef accel_module = {
    PyModuleDef_HEAD_INIT,
    "chronik._accel",
    "Native decoder for Chronik's generated Kafka protocol codecs (see chronik.protocol.wire).",
    -1,
    accel_methods,
};

/* Resolve uuid.UUID's 'int' and 'is_safe' slots; on any surprise keep the slow path. */
static int
init_uuid(void)
{
    PyObject *mod, *safe, *name;
    Py_ssize_t int_off, safe_off, offs[2];

    mod = PyImport_ImportModule("uuid");
    if (mod == NULL)
        return -1;
    uuid_type = PyObject_GetAttrString(mod, "UUID");
    safe = PyObject_GetAttrString(mod, "SafeUUID");
    Py_DECREF(mod);
    if (uuid_type == NULL || safe == NULL) {
        Py_XDECREF(safe);
        return -1;
    }
    uuid_unknown = PyObject_GetAttrString(safe, "unknown");
    Py_DECREF(safe);
    if (uuid_unknown == NULL)
        return -1;
    if (!PyType_Check(uuid_type))
        return 0;

    name = PyUnicode_InternFromString("int");
    if (name == NULL)
        return -1;
    if (slot_offset((PyTypeObject *)uuid_type, name, &int_off) < 0) {
        Py_DECREF(name);
        PyErr_Clear();
        return 0;
    }
    Py_DECREF(name);
    name = PyUnicode_InternFromString("is_safe");
    if (name == NULL)
        return -1;
    if (slot_offset((PyTypeObject *)uuid_type, name, &safe_off) < 0) {
        Py_DECREF(name);
        PyErr_Clear();
        return 0;
    }
    Py_DECREF(name);
    /* Only those two object slots may exist, or an instance would have a NULL slot. */
    offs[0] = int_off;
    offs[1] = safe_off;
    if (check_slots_covered((PyTypeObject *)uuid_type, offs, 2) < 0 ||
        ((PyTypeObject *)uuid_type)->tp_itemsize != 0) {
        PyErr_Clear();
        return 0;
    }
    uuid_int_off = int_off;
    uuid_safe_off = safe_off;
    return 0;
}

PyMODINIT_FUNC
PyInit__accel(void)
{
    PyObject *m = PyModule_Create(&accel_module);
    long i;
    if (m == NULL)
        return NULL;
    Malformed = PyErr_NewExceptionWithDoc(
        "chronik._accel.Malformed",
        "A buffer the native decoder rejects; the pure-Python decoder reports it in detail.",
        PyExc_ValueError, NULL);
    if (Malformed == NULL || PyModule_AddObjectRef(m, "Malformed", Malformed) < 0)
        goto fail;
    schema_cache = PyDict_New();
    if (schema_cache == NULL)
        goto fail;
    for (i = 0; i < INT_CACHE_MAX - INT_CACHE_MIN; i++)
        if (int_cache[i] == NULL && (int_cache[i] = PyLong_FromLong(INT_CACHE_MIN + i)) == NULL)
            goto fail;
    if (init_uuid() < 0)
        goto fail;
    if (PyModule_AddIntConstant(m, "FAST_UUID", uuid_int_off >= 0) < 0)
        goto fail;
    return m;

fail:
    Py_DECREF(m);
    return NULL;
}
