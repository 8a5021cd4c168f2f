#!/usr/bin/python3
"""make_readers.py — fixtures for the checkpoint-reader tests (tests/readers), made with
Debian's python3-torch (run by hand: /usr/bin/python3 tests/reference/make_readers.py).

Writes tests/fixtures/readers/:
  pickle/<case>_p<proto>.pkl + <case>.txt   pickles and the value tree rendered by Python
  <set>.expect + <set>.raw                  expected tensors (name dtype shape offset nbytes)
                                            and their bytes, taken from torch
  *.pt *.bin *.safetensors                  checkpoints in every format
  hostile/*                                 hand-made bad inputs (each must be refused)
  fixtures.txt                              checkpoint file -> expected set, format
"""
import collections
import io
import os
import pickle
import struct
import sys
import zipfile
import zlib

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'fixtures', 'readers')
torch.manual_seed(0)


def path(*p):
    full = os.path.join(OUT, *p)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    return full


def write(name, data):
    with open(path(name), 'wb') as f:
        f.write(data)


# ---------------------------------------------------------------------------
# Canonical value rendering (the grammar of pk_dump in converters/readers/pickle.h).
class Opaque:
    """What the recording unpickler makes of any class/function it does not know."""
    def __init__(self, cls, args):
        self.cls, self.args, self.state, self.items, self.list = cls, args, None, None, None

    def __setstate__(self, state):
        self.state = state

    def __setitem__(self, k, v):
        if self.items is None:
            self.items = {}
        self.items[k] = v

    def append(self, v):
        if self.list is None:
            self.list = []
        self.list.append(v)

    def extend(self, vs):
        for v in vs:
            self.append(v)


class Global:
    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):
        return Opaque(self, tuple(args))


def encode_long(x):
    """Minimal little-endian two's complement (pickle.encode_long)."""
    n = (x.bit_length() >> 3) + 1
    b = x.to_bytes(n, 'little', signed=True)
    if x < 0 and n > 1 and b[-1] == 0xff and (b[-2] & 0x80):
        b = b[:-1]
    return b


def render(v):
    if v is None:
        return 'None'
    if v is True:
        return 'True'
    if v is False:
        return 'False'
    if isinstance(v, int):
        if -2**63 <= v < 2**63:
            return str(v)
        return 'L' + encode_long(v).hex()
    if isinstance(v, float):
        return 'f' + ('%.17g' % v)
    if isinstance(v, str):
        return 's"' + v.encode('utf-8', 'surrogatepass').hex() + '"'
    if isinstance(v, bytearray):
        return 'ba"' + bytes(v).hex() + '"'
    if isinstance(v, bytes):
        return 'b"' + v.hex() + '"'
    if isinstance(v, list):
        return '[' + ','.join(render(x) for x in v) + ']'
    if isinstance(v, tuple):
        return '(' + ','.join(render(x) for x in v) + ')'
    if isinstance(v, dict):
        return '{' + ','.join(render(k) + ':' + render(x) for k, x in v.items()) + '}'
    if isinstance(v, frozenset):
        return 'fset{' + ','.join(render(x) for x in v) + '}'
    if isinstance(v, set):
        return 'set{' + ','.join(render(x) for x in v) + '}'
    if isinstance(v, Global):
        return 'G(%s.%s)' % (v.module, v.name)
    if isinstance(v, Opaque):
        s = 'O(' + render(v.cls) + ',' + render(v.args) + ',' + render(v.state)
        if v.items is not None:
            s += ',+' + render(v.items)
        if v.list is not None:
            s += ',+' + render(v.list)
        return s + ')'
    if isinstance(v, Reduced):
        return 'O(G(%s.%s),%s,%s)' % (v.mod, v.qual, render(v.args), render(v.st))
    raise TypeError(type(v))


class Recording(pickle.Unpickler):
    """Python's own opcode interpreter; classes/functions are recorded, not imported."""
    KNOWN = {('collections', 'OrderedDict'): collections.OrderedDict,
             ('_codecs', 'encode'): __import__('codecs').encode,
             ('builtins', 'set'): set, ('builtins', 'frozenset'): frozenset,
             ('builtins', 'bytes'): bytes, ('builtins', 'bytearray'): bytearray,
             ('__builtin__', 'set'): set, ('__builtin__', 'frozenset'): frozenset,
             ('__builtin__', 'bytes'): bytes, ('__builtin__', 'bytearray'): bytearray}

    def find_class(self, module, name):
        if (module, name) in self.KNOWN:
            return self.KNOWN[(module, name)]
        if module == '__builtin__':
            module = 'builtins'
        # NEWOBJ calls cls.__new__(cls, *args): hand it a class that records.
        return RecordingClass(Global(module, name))

    def persistent_load(self, pid):
        return Opaque(None, pid)


class RecordingClass(type):
    """A callable that is also a class (so NEWOBJ/INST accept it) and records its calls."""
    def __new__(mcls, g):
        def new(cls, *args, **kw):
            return Opaque(g, tuple(args))
        t = super().__new__(mcls, 'Rec', (object,), {'__new__': new})
        t.g = g
        return t

    def __init__(cls, g):
        pass

    def __call__(cls, *args, **kw):
        return Opaque(cls.g, tuple(args))


def _fix_opaque(v):
    """Recorded classes appear as RecordingClass; render them as their Global."""
    if isinstance(v, RecordingClass):
        return v.g
    if isinstance(v, Opaque):
        v.cls = _fix_opaque(v.cls)
        v.args = _fix_opaque(v.args)
        v.state = _fix_opaque(v.state)
        if v.items is not None:
            v.items = _fix_opaque(v.items)
        if v.list is not None:
            v.list = _fix_opaque(v.list)
        return v
    if isinstance(v, list):
        return [_fix_opaque(x) for x in v]
    if isinstance(v, tuple):
        return tuple(_fix_opaque(x) for x in v)
    if isinstance(v, dict):
        return {_fix_opaque(k): _fix_opaque(x) for k, x in v.items()}
    return v


class Reduced:
    """A class whose pickle is REDUCE(cls, args) + BUILD(state) at every protocol."""
    mod, qual = '__main__', 'Reduced'

    def __init__(self, *args):
        self.args, self.st = args, None

    def __reduce__(self):
        return (Reduced, self.args, self.st)

    def __setstate__(self, st):
        self.st = st


# ---------------------------------------------------------------------------
# 1. pickle opcode coverage
def pickle_cases():
    shared = [1, 2]
    r = Reduced(1, 'x')
    r.st = {'s': 2.5}
    od = collections.OrderedDict([('b', 1), ('a', [1, 2])])
    cases = {
        'scalars': [None, True, False, 0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31 - 1, 2**31, 2**40,
                    -2**63, 2**63 - 1, 2**63, -2**63 - 1, 2**100, -2**70, 2**3000, 1.5, -0.0, 1e300,
                    float('inf'), -float('inf'), 3.141592653589793, 1e-310],
        'strings': ['', 'a', 'hello world', 'é', '\u20ac', '\U0001F600', 'line\nbreak', 'back\\slash', 'nul\0x',
                    '\r\x1a', 'x' * 300, '\ud800'],
        'bytes': [b'', b'\x00\xff', b'abc' * 100, bytearray(b'ba'), bytearray()],
        'containers': [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), [], [[]], {}, {'a': 1, 2: 'b', (1, 2): None},
                       set(), {1, 2, 3}, frozenset(), frozenset({'x', 'y'}), [shared, shared], od,
                       {'nested': {'deeper': [{'x': (1, [2, {'y': b'z'}])}]}}],
        'objects': [r, [r, r], Reduced(), {'k': Reduced([1], {'a': None})}],
        'memo': [str(i) for i in range(300)] + [('t%d' % i,) for i in range(300)],
    }
    for name, value in cases.items():
        with open(path('pickle', name + '.txt'), 'w') as f:
            f.write(render(value) + '\n')
        for proto in range(6):
            write(os.path.join('pickle', '%s_p%d.pkl' % (name, proto)), pickle.dumps(value, protocol=proto))


def hand_pickles():
    """Opcodes Python 3's pickler never emits; the expected tree comes from Python's own
    Unpickler (Recording) loading the same bytes."""
    P45 = (b"(\x8c\x01a\x94\x8d\x02\x00\x00\x00\x00\x00\x00\x00bc\x8e\x01\x00\x00\x00\x00\x00\x00\x00z"
           b"\x96\x02\x00\x00\x00\x00\x00\x00\x00\x01\x02\x8c\x03mod\x8c\x03Cls\x93\x94K\x01\x85}\x92"
           b"\x8f(K\x07\x90(K\x08\x91\x8b\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80h\x00t.")
    P = {
        # STRING, BINSTRING, SHORT_BINSTRING (Python 2 str), INT/LONG text, GET/PUT text
        'py2': b"(S'abc'\np0\nS\"q\\x41\\n\\\\\"\nT\x03\x00\x00\x00xyzU\x02\xe9!I12345678901234567890\n"
               b"L-99999999999999999999999L\nI01\nI00\nF2.5\ng0\nl.",
        # INST and OBJ
        'inst': b"(I1\nS'a'\nimymod\nKlass\n}S'x'\nK\x01sb(cmymod\nOther\nK\x02K\x03o\x86.",
        # DICT with MARK, POP, POP_MARK, DUP, EMPTY_TUPLE, LONG_BINPUT/GET, BINFLOAT
        'misc': b"(S'k'\nK\x01S'j'\n)r\x05\x00\x00\x00j\x05\x00\x00\x00(K\x01K\x021G?\xf8\x00\x00\x00\x00\x00\x00"
                b"2\x86d]K\x05N0a\x86.",
        # protocol 4/5: FRAME, SHORT_BINUNICODE, BINUNICODE8, BINBYTES8, BYTEARRAY8, MEMOIZE,
        # STACK_GLOBAL, NEWOBJ_EX, EMPTY_SET/ADDITEMS, FROZENSET, LONG4
        'p45': b"\x80\x05\x95" + struct.pack('<Q', len(P45)) + P45,
        # PERSID / BINPERSID with ids that are not storages; BUILD on an opaque object;
        # SETITEMS/APPENDS into opaque objects (dict/list subclasses)
        'persid': b"(Pplain-id\n(X\x02\x00\x00\x00idK\x05tQ\x80\x02cmymod\nObj\n)\x81}X\x01\x00\x00\x00sK\x01sb"
                  b"cmymod\nD\n)\x81(X\x01\x00\x00\x00kK\x02ucmymod\nL\n)\x81(K\x01K\x02el.",
    }
    for name, data in P.items():
        value = _fix_opaque(Recording(io.BytesIO(data), encoding='latin1').load())
        write(os.path.join('pickle', 'hand_%s.pkl' % name), data)
        with open(path('pickle', 'hand_%s.txt' % name), 'w') as f:
            f.write(render(value) + '\n')


# ---------------------------------------------------------------------------
# 2. tensors
DTYPE = {torch.float32: 'f32', torch.float16: 'f16', torch.bfloat16: 'bf16', torch.float64: 'f64',
         torch.uint8: 'u8', torch.int8: 'i8', torch.int16: 'i16', torch.int32: 'i32', torch.int64: 'i64',
         torch.bool: 'bool', torch.complex64: 'c64', torch.complex128: 'c128'}


def tensor_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def flatten(obj, prefix=''):
    """The ckpt.h path rules, applied to the object torch saved."""
    out = []
    if isinstance(obj, torch.Tensor):
        out.append((prefix or 'tensor', obj))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out += flatten(v, (prefix + '/' if prefix else '') + str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            out += flatten(v, (prefix + '/' if prefix else '') + str(i))
    return out


def write_expect(setname, items):
    """items: [(name, dtype string, shape, bytes)]"""
    raw = b''
    lines = []
    for name, dt, shape, data in items:
        lines.append('%s\t%s\t%s\t%d\t%d' % (name, dt, ','.join(str(d) for d in shape) if shape else '-',
                                             len(raw), len(data)))
        raw += data
    with open(path(setname + '.expect'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    write(setname + '.raw', raw)


def expect_from(setname, obj):
    write_expect(setname, [(n, DTYPE[t.dtype], list(t.shape), tensor_bytes(t)) for n, t in flatten(obj)])


FIXTURES = []  # (file, set, format)


def save_both(setname, obj, name):
    torch.save(obj, path(name + '.pt'))
    torch.save(obj, path(name + '_legacy.pt'), _use_new_zipfile_serialization=False)
    FIXTURES.append((name + '.pt', setname, 'torch-zip'))
    FIXTURES.append((name + '_legacy.pt', setname, 'torch-legacy'))


def small_sd(scale=1.0):
    return collections.OrderedDict([
        ('conv_in.weight', torch.randn(4, 3, 3, 3) * scale),
        ('conv_in.bias', torch.randn(4)),
        ('norm.weight', torch.ones(4)),
        ('time_embedding.linear_1.weight', torch.randn(8, 4)),
        ('scalar', torch.tensor(3.25)),
        ('empty', torch.zeros(0, 3)),
    ])


def rezip(src, dst, method):
    with zipfile.ZipFile(src) as zi, zipfile.ZipFile(dst, 'w', compression=method) as zo:
        for info in zi.infolist():
            zo.writestr(info.filename, zi.read(info.filename), compress_type=method)


def zip64_write(dst, entries):
    """A stored zip whose every header uses ZIP64 fields (sizes/offsets 0xFFFFFFFF, extra
    field 0x0001) plus the ZIP64 end records, per PKWARE APPNOTE 4.3.14-4.3.15, 4.5.3."""
    out = bytearray()
    central = bytearray()
    for name, data in entries:
        nb = name.encode()
        off = len(out)
        crc = zlib.crc32(data) & 0xffffffff
        lextra = struct.pack('<HHQQ', 1, 16, len(data), len(data))
        out += struct.pack('<IHHHHHIIIHH', 0x04034b50, 45, 0, 0, 0, 0, crc, 0xffffffff, 0xffffffff, len(nb),
                           len(lextra)) + nb + lextra + data
        cextra = struct.pack('<HHQQQ', 1, 24, len(data), len(data), off)
        central += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 45, 45, 0, 0, 0, 0, crc, 0xffffffff, 0xffffffff,
                               len(nb), len(cextra), 0, 0, 0, 0, 0xffffffff) + nb + cextra
    cd_off = len(out)
    out += central
    z64 = len(out)
    out += struct.pack('<IQHHIIQQQQ', 0x06064b50, 44, 45, 45, 0, 0, len(entries), len(entries), len(central), cd_off)
    out += struct.pack('<IIQI', 0x07064b50, 0, z64, 1)
    out += struct.pack('<IHHHHIIH', 0x06054b50, 0xffff, 0xffff, 0xffff, 0xffff, 0xffffffff, 0xffffffff, 0)
    write(dst, bytes(out))


def v3_archive(dst, top, tensors):
    """A torch >= 2 style archive written by hand: _rebuild_tensor_v3 with a dtype argument
    over torch.UntypedStorage records (numel in bytes)."""
    def fake_v3(*a):
        raise RuntimeError
    fake_v3.__module__, fake_v3.__qualname__, fake_v3.__name__ = 'torch._utils', '_rebuild_tensor_v3', '_rebuild_tensor_v3'
    torch._utils._rebuild_tensor_v3 = fake_v3

    class T:
        def __init__(self, key, t):
            self.key, self.t = key, t

        def __reduce__(self):
            t = self.t
            return (fake_v3, (Stor(self.key, t), t.storage_offset(), tuple(t.shape), t.stride(), False,
                              collections.OrderedDict(), t.dtype))

    class Stor:
        def __init__(self, key, t):
            self.key, self.t = key, t

    class P(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Stor):
                return ('storage', torch.UntypedStorage, obj.key, 'cpu', obj.t.storage().nbytes())
            return None

    obj = collections.OrderedDict()
    recs = []
    for i, (name, t) in enumerate(tensors):
        obj[name] = T(str(i), t)
        st = t.storage()
        b = torch.tensor([], dtype=t.dtype).set_(st)  # the whole storage
        recs.append(('%s/data/%d' % (top, i), tensor_bytes(b)))
    bio = io.BytesIO()
    P(bio, protocol=2).dump(obj)
    with zipfile.ZipFile(path(dst), 'w') as z:
        z.writestr(top + '/data.pkl', bio.getvalue())
        for n, d in recs:
            z.writestr(n, d)
        z.writestr(top + '/byteorder', 'little')
        z.writestr(top + '/version', '3\n')


def variants_archive():
    """_rebuild_tensor (v1), _rebuild_parameter, _rebuild_parameter_with_state, a
    torch.cuda storage, tensors inside lists/tuples/int-keyed dicts and inside the BUILD
    state of an unknown class: written with a hand-made pickler, names per ckpt.h."""
    def fake(name):
        def f(*a):
            raise RuntimeError
        f.__module__, f.__qualname__, f.__name__ = 'torch._utils', name, name
        if not hasattr(torch._utils, name):
            setattr(torch._utils, name, f)
        return getattr(torch._utils, name)

    class Stor:
        def __init__(self, key, t, typ):
            self.key, self.t, self.typ = key, t, typ

    class Ten:
        def __init__(self, fn, args):
            self.fn, self.args = fn, args

        def __reduce__(self):
            return (self.fn, self.args)

    class Unknown:
        """pickles as mymodule.Thing with a BUILD state"""
        def __init__(self, state):
            self.state = state

        def __reduce__(self):
            return (Ten.__new__, (Ten,), self.state)

    class P(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Stor):
                return ('storage', obj.typ, obj.key, 'cuda:0' if obj.typ is torch.cuda.FloatStorage else 'cpu',
                        obj.t.numel())
            return None

    base = torch.arange(12, dtype=torch.float32) * 0.5
    other = torch.arange(6, dtype=torch.int64) - 3
    s0 = Stor('0', base, torch.FloatStorage)
    s1 = Stor('1', base, torch.cuda.FloatStorage)
    s2 = Stor('2', other, torch.LongStorage)
    od = collections.OrderedDict
    v2 = fake('_rebuild_tensor_v2')
    obj = od()
    exp = []
    obj['v1'] = Ten(fake('_rebuild_tensor'), (s0, 2, (2, 3), (1, 2)))
    exp.append(('v1', base.as_strided((2, 3), (1, 2), 2)))
    obj['param'] = Ten(fake('_rebuild_parameter'), (Ten(v2, (s0, 0, (3, 4), (4, 1), False, od())), True, od()))
    exp.append(('param', base.view(3, 4)))
    obj['pws'] = Ten(fake('_rebuild_parameter_with_state'),
                     (Ten(v2, (s2, 1, (5,), (1,), False, od())), True, od(), {'note': 'x'}))
    exp.append(('pws', other[1:]))
    obj['cuda'] = Ten(v2, (s1, 0, (4, 3), (1, 4), False, od()))
    exp.append(('cuda', base.as_strided((4, 3), (1, 4), 0)))
    obj['nested'] = [Ten(v2, (s2, 0, (2,), (3,), False, od())), ({'x': Ten(v2, (s0, 11, (), (), False, od()))},)]
    exp.append(('nested/0', other.as_strided((2,), (3,), 0)))
    exp.append(('nested/1/0/x', base[11]))
    obj['ints'] = {0: Ten(v2, (s2, 0, (6,), (1,), False, od())), 7: 'not a tensor'}
    exp.append(('ints/0', other))
    Ten.__module__ = 'mymodule'
    Ten.__qualname__ = 'Thing'
    sys.modules['mymodule'] = type(sys)('mymodule')
    sys.modules['mymodule'].Thing = Ten
    obj['opaque'] = Unknown({'w': Ten(v2, (s0, 0, (2, 2), (2, 1), False, od())), 'n': 3})
    exp.append(('opaque/w', base[:4].view(2, 2)))
    bio = io.BytesIO()
    P(bio, protocol=2).dump(obj)
    with zipfile.ZipFile(path('variants.pt'), 'w') as z:
        z.writestr('variants/data.pkl', bio.getvalue())
        z.writestr('variants/data/0', tensor_bytes(base))
        z.writestr('variants/data/1', tensor_bytes(base))
        z.writestr('variants/data/2', tensor_bytes(other))
        z.writestr('variants/version', '3\n')
    write_expect('variants', [(n, DTYPE[t.dtype], list(t.shape), tensor_bytes(t)) for n, t in exp])
    FIXTURES.append(('variants.pt', 'variants', 'torch-zip'))


def safetensors_write(dst, tensors, metadata=None, pad=True):
    """Per the safetensors README: u64 LE header size, JSON header, byte buffer."""
    import json
    header = {}
    if metadata is not None:
        header['__metadata__'] = metadata
    off = 0
    data = b''
    for name, dt, shape, b in tensors:
        header[name] = {'dtype': dt, 'shape': shape, 'data_offsets': [off, off + len(b)]}
        off += len(b)
        data += b
    h = json.dumps(header, separators=(',', ':')).encode()
    if pad:
        h += b' ' * ((8 - len(h) % 8) % 8)
    write(dst, struct.pack('<Q', len(h)) + h + data)


ST_NAME = {'f32': 'F32', 'f16': 'F16', 'bf16': 'BF16', 'f64': 'F64', 'u8': 'U8', 'i8': 'I8', 'i16': 'I16',
           'i32': 'I32', 'i64': 'I64', 'bool': 'BOOL', 'c64': 'C64'}


def tensors_main():
    # -- a small state dict in every container
    sd = small_sd()
    expect_from('sd', sd)
    save_both('sd', sd, 'sd')
    bio = io.BytesIO()
    torch.save(sd, bio)
    write('sd_bytesio.pt', bio.getvalue())
    FIXTURES.append(('sd_bytesio.pt', 'sd', 'torch-zip'))
    rezip(path('sd.pt'), path('sd_deflate.pt'), zipfile.ZIP_DEFLATED)
    FIXTURES.append(('sd_deflate.pt', 'sd', 'torch-zip'))
    with zipfile.ZipFile(path('sd.pt')) as z:
        zip64_write('sd_zip64.pt', [(i.filename, z.read(i.filename)) for i in z.infolist()])

    class Unseekable(io.RawIOBase):
        """zipfile writes data descriptors (flag bit 3) when it cannot seek back."""
        def __init__(self):
            self.buf = bytearray()

        def writable(self):
            return True

        def write(self, b):
            self.buf += b
            return len(b)

    out = Unseekable()
    with zipfile.ZipFile(path('sd.pt')) as zi, zipfile.ZipFile(out, 'w', compression=zipfile.ZIP_DEFLATED) as zo:
        for info in zi.infolist():
            with zo.open(info.filename, 'w') as w:
                w.write(zi.read(info.filename))
    assert all(i.flag_bits & 8 for i in zipfile.ZipFile(io.BytesIO(bytes(out.buf))).infolist())
    write('sd_descriptor.pt', bytes(out.buf))
    FIXTURES.append(('sd_descriptor.pt', 'sd', 'torch-zip'))
    FIXTURES.append(('sd_zip64.pt', 'sd', 'torch-zip'))
    items = [(n, ST_NAME[DTYPE[t.dtype]], list(t.shape), tensor_bytes(t)) for n, t in flatten(sd)]
    safetensors_write('sd.safetensors', items, {'format': 'pt'})
    FIXTURES.append(('sd.safetensors', 'sd', 'safetensors'))

    # -- every storage dtype
    base = torch.tensor([0.0, 1.5, -2.25, 3.0, 100.0, -0.5])
    dt = collections.OrderedDict()
    for d in DTYPE:
        if d == torch.bool:
            dt['t_bool'] = torch.tensor([True, False, True, True, False, False])
        elif d.is_complex:
            dt['t_' + DTYPE[d]] = torch.complex(base, -base).to(d)
        else:
            dt['t_' + DTYPE[d]] = base.to(d)
    dt['t_i64_big'] = torch.tensor([2**62, -2**62, 7], dtype=torch.int64)
    expect_from('dtypes', dt)
    save_both('dtypes', dt, 'dtypes')
    v3_archive('dtypes_v3.pt', 'dtypes_v3', list(dt.items()))
    FIXTURES.append(('dtypes_v3.pt', 'dtypes', 'torch-zip'))

    # -- non-contiguous views, storage offsets, shared storage, Parameters, expanded strides
    a = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    b = torch.arange(60, dtype=torch.float64).reshape(3, 4, 5)
    views = collections.OrderedDict([
        ('base', a),
        ('transpose', a.t()),
        ('slice', a[1:3, ::2]),
        ('row', a[2]),
        ('col', a[:, 4]),
        ('permute', b.permute(2, 0, 1)),
        ('narrow', b[:, 1:3, 2:]),
        ('expand', torch.arange(4, dtype=torch.int32).reshape(4, 1).expand(4, 3)),
        ('step', b[::2, ::3, ::2]),
        ('param', torch.nn.Parameter(torch.randn(3, 2))),
        ('half_t', torch.randn(5, 3).half().t()),
    ])
    expect_from('views', views)
    save_both('views', views, 'views')

    # -- pickle protocol 4 (FRAME, STACK_GLOBAL, MEMOIZE...) in both containers
    torch.save(sd, path('sd_p4.pt'), pickle_protocol=4)
    torch.save(sd, path('sd_p4_legacy.pt'), pickle_protocol=4, _use_new_zipfile_serialization=False)
    FIXTURES.append(('sd_p4.pt', 'sd', 'torch-zip'))
    FIXTURES.append(('sd_p4_legacy.pt', 'sd', 'torch-legacy'))

    # -- the other rebuild functions, cuda storages, nesting and opaque objects
    variants_archive()

    # -- a full training checkpoint: model, EMA, Adam optimizer state, step
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.GroupNorm(2, 4), torch.nn.Conv2d(4, 2, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.randn(1, 3, 6, 6)).square().mean().backward()
    opt.step()
    ema = {k: v.detach().clone() * 0.5 for k, v in model.state_dict().items()}
    full = {'model': model.state_dict(), 'ema': ema, 'optimizer': opt.state_dict(), 'step': 10,
            'config': {'lr': 1e-3, 'name': 'test', 'betas': (0.9, 0.999)}}
    expect_from('full', full)
    save_both('full', full, 'full')

    # -- safetensors with every dtype it names, metadata, zero-size and scalar tensors
    st = [('a_f32', 'F32', [2, 3], np.arange(6, dtype='<f4').tobytes()),
          ('b_f16', 'F16', [3], np.array([1, -2, 0.5], dtype='<f2').tobytes()),
          ('c_bf16', 'BF16', [2], tensor_bytes(torch.tensor([1.5, -3.0], dtype=torch.bfloat16))),
          ('d_f64', 'F64', [1, 2], np.array([[1e300, -1e-300]], dtype='<f8').tobytes()),
          ('e_i64', 'I64', [2], np.array([2**62, -5], dtype='<i8').tobytes()),
          ('f_i32', 'I32', [], np.array(-7, dtype='<i4').tobytes()),
          ('g_i16', 'I16', [3], np.array([1, -1, 300], dtype='<i2').tobytes()),
          ('h_i8', 'I8', [2], np.array([-128, 127], dtype='i1').tobytes()),
          ('i_u8', 'U8', [4], bytes([0, 1, 254, 255])),
          ('j_bool', 'BOOL', [3], bytes([1, 0, 1])),
          ('k_f8e4m3', 'F8_E4M3', [2], bytes([0x38, 0xb8])),
          ('l_f8e5m2', 'F8_E5M2', [2], bytes([0x3c, 0xbc])),
          ('m_u16', 'U16', [2], np.array([65535, 1], dtype='<u2').tobytes()),
          ('n_u32', 'U32', [1], np.array([4000000000], dtype='<u4').tobytes()),
          ('o_u64', 'U64', [1], np.array([2**64 - 1], dtype='<u8').tobytes()),
          ('p_empty', 'F32', [0, 4], b''),
          ('q_c64', 'C64', [1], np.array([1 - 2j], dtype='<c8').tobytes())]
    safetensors_write('mixed.safetensors', st, {'format': 'pt', 'note': 'hand-written'})
    low = {'F32': 'f32', 'F16': 'f16', 'BF16': 'bf16', 'F64': 'f64', 'I64': 'i64', 'I32': 'i32', 'I16': 'i16',
           'I8': 'i8', 'U8': 'u8', 'BOOL': 'bool', 'F8_E4M3': 'f8e4m3', 'F8_E5M2': 'f8e5m2', 'U16': 'u16',
           'U32': 'u32', 'U64': 'u64', 'C64': 'c64'}
    write_expect('mixed', [(n, low[d], s, b) for n, d, s, b in st])
    FIXTURES.append(('mixed.safetensors', 'mixed', 'safetensors'))
    with open(path('mixed.metadata'), 'w') as f:
        f.write('format=pt\nnote=hand-written\n')

    with open(path('fixtures.txt'), 'w') as f:
        for fx in FIXTURES:
            f.write('%s\t%s\t%s\n' % fx)


# ---------------------------------------------------------------------------
# 3. hostile inputs (each must be refused with a message)
def zip_stored(entries, top='h'):
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, 'w') as z:
        for n, d in entries:
            z.writestr(top + '/' + n, d)
    return bio.getvalue()


def torch_pickle_zip(pkl, records=()):
    return zip_stored([('data.pkl', pkl)] + list(records))


def storage_pid(typ='FloatStorage', key='0', numel=4):
    return (b'(X\x07\x00\x00\x00storagectorch\n' + typ.encode() + b'\nX' + struct.pack('<I', len(key)) + key.encode() +
            b'X\x03\x00\x00\x00cpuJ' + struct.pack('<i', numel) + b'tQ')


def rebuild_v2(pid, offset, size, stride):
    def tup(xs):
        return b'(' + b''.join(b'J' + struct.pack('<i', x) for x in xs) + b't'
    return (b'ctorch._utils\n_rebuild_tensor_v2\n(' + pid + b'J' + struct.pack('<i', offset) + tup(size) + tup(stride) +
            b'\x89ccollections\nOrderedDict\n)RtR')


def tensor_pickle(offset=0, size=(2, 2), stride=(2, 1), typ='FloatStorage', numel=4, key='0'):
    return b'\x80\x02}X\x01\x00\x00\x00w' + rebuild_v2(storage_pid(typ, key, numel), offset, size, stride) + b's.'


def dag_long_names(k=15, pad=60000):
    """Shared dicts that reach one tensor through 2**k paths, each under a 3900-byte key: a
    3 kB deflated file whose flattened tensor names would take 128 MB (must hit the memory
    bound, not be accepted). The padding string only raises the walk budget."""
    def ustr(b):
        return b'X' + struct.pack('<I', len(b)) + b
    pkl = b'\x80\x02}' + ustr(b'w') + rebuild_v2(storage_pid(), 0, (2, 2), (2, 1)) + b'sq\x00'
    for i in range(1, k + 1):
        pkl += b'}q' + bytes([i]) + b'(' + ustr(b'a') + b'h' + bytes([i - 1]) + ustr(b'b') + b'h' + bytes([i - 1]) + b'u'
    pkl += b'}(' + ustr(b'K' * 3900) + b'h' + bytes([k]) + ustr(b'pad') + ustr(b'x' * pad) + b'u.'
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, 'w', compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr('h/data.pkl', pkl)
        z.writestr('h/data/0', b'\x00' * 16)
    return bio.getvalue()


def hostile():
    H = {}
    rec4 = [('data/0', b'\x00' * 16)]
    # pickle-level
    H['pk_memo_out_of_range.pt'] = torch_pickle_zip(b'\x80\x02h\x05.')
    H['pk_long_binput_huge.pt'] = torch_pickle_zip(b'\x80\x02Nr\xff\xff\xff\xff.')
    H['pk_stack_underflow.pt'] = torch_pickle_zip(b'\x80\x02a.')
    H['pk_stop_empty.pt'] = torch_pickle_zip(b'\x80\x02.')
    H['pk_no_stop.pt'] = torch_pickle_zip(b'\x80\x02}')
    H['pk_huge_unicode8.pt'] = torch_pickle_zip(b'\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\x7fab.')
    H['pk_huge_long4.pt'] = torch_pickle_zip(b'\x80\x02\x8b\xff\xff\xff\x7f.')
    H['pk_huge_binbytes.pt'] = torch_pickle_zip(b'\x80\x03B\xff\xff\xff\xff.')
    H['pk_ext1.pt'] = torch_pickle_zip(b'\x80\x02\x82\x01.')
    H['pk_next_buffer.pt'] = torch_pickle_zip(b'\x80\x05\x97.')
    H['pk_bad_proto.pt'] = torch_pickle_zip(b'\x80\x09N.')
    H['pk_unknown_op.pt'] = torch_pickle_zip(b'\x80\x02\xff.')
    H['pk_deep_nesting.pt'] = torch_pickle_zip(b'\x80\x02' + b'(' * 2000 + b']' + b'l' * 2000 + b'.')
    dag = b'\x80\x02]q\x00'
    for i in range(1, 70):
        dag += b'h' + bytes([i - 1]) + b'h' + bytes([i - 1]) + b'\x86q' + bytes([i])
    H['pk_exponential_dag.pt'] = torch_pickle_zip(dag + b'.')
    H['pk_selfref.pt'] = torch_pickle_zip(b'\x80\x02]q\x00h\x00a.')
    H['pk_dag_long_names.pt'] = dag_long_names()
    H['pk_setitem_on_list.pt'] = torch_pickle_zip(b'\x80\x02]K\x01K\x02s.')
    H['pk_odd_dict.pt'] = torch_pickle_zip(b'\x80\x02(K\x01d.')
    # tensors
    H['t_offset_past_end.pt'] = torch_pickle_zip(tensor_pickle(offset=1), rec4)
    H['t_negative_shape.pt'] = torch_pickle_zip(tensor_pickle(size=(-1, 2)), rec4)
    H['t_overflow_shape.pt'] = torch_pickle_zip(
        b'\x80\x02}X\x01\x00\x00\x00w' + rebuild_v2(storage_pid(), 0, (1, 1), (1, 1)).replace(
            b'(J\x01\x00\x00\x00J\x01\x00\x00\x00t', b'(\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x40\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x40t', 1) + b's.', rec4)
    H['t_huge_stride.pt'] = torch_pickle_zip(tensor_pickle(stride=(2**30, 1)), rec4)
    H['t_rank_mismatch.pt'] = torch_pickle_zip(tensor_pickle(stride=(1,)), rec4)
    H['t_record_too_small.pt'] = torch_pickle_zip(tensor_pickle(numel=400), rec4)
    H['t_missing_record.pt'] = torch_pickle_zip(tensor_pickle(), [])
    H['t_unknown_storage.pt'] = torch_pickle_zip(tensor_pickle(typ='QInt8Storage'), rec4)
    H['t_dtype_mismatch.pt'] = torch_pickle_zip(tensor_pickle(typ='HalfStorage'), rec4)  # 4 halves = 8 bytes != 16
    v3 = (b'\x80\x02}X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v3\n(' + storage_pid() +
          b'K\x00(K\x04t(K\x01t\x89ccollections\nOrderedDict\n)Rctorch\nfloat16\ntRs.')
    H['t_v3_dtype_mismatch.pt'] = torch_pickle_zip(v3, rec4)
    H['t_not_storage.pt'] = torch_pickle_zip(
        b'\x80\x02}X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n(NK\x00)))\x89NtRs.')
    H['t_big_endian.pt'] = torch_pickle_zip(tensor_pickle(), rec4 + [('byteorder', b'big')])
    # zip-level
    good = open(path('sd.pt'), 'rb').read()
    H['zip_truncated_eocd.pt'] = good[:-10]
    bad = bytearray(good)
    i = bad.rfind(b'PK\x01\x02')
    bad[i + 16:i + 20] = b'\xde\xad\xbe\xef'  # CRC of the last central entry
    H['zip_bad_crc.pt'] = bytes(bad)
    bad = bytearray(good)
    j = bad.rfind(b'PK\x06\x06')
    bad[j + 48:j + 56] = struct.pack('<Q', 2**62)  # central directory offset
    H['zip_cd_offset_huge.pt'] = bytes(bad)
    bad = bytearray(good)
    bad[j + 24:j + 40] = struct.pack('<QQ', 2**40, 2**40)  # entry counts
    H['zip_entry_count_huge.pt'] = bytes(bad)
    bad = bytearray(good)
    k = bad.find(b'PK\x03\x04', 10)
    bad[k + 30] ^= 0x20  # local name differs from the central one
    H['zip_local_name_mismatch.pt'] = bytes(bad)
    # zip bombs: a deflated entry that claims a huge size, and one that inflates past its claim
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = c.compress(b'\0' * (1 << 20)) + c.flush()
    def deflated_zip(name, comp, size, crc):
        nb = name.encode()
        lh = struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, 0, 8, 0, 0, crc, len(comp), size, len(nb), 0) + nb
        ch = struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 20, 20, 0, 8, 0, 0, crc, len(comp), size, len(nb), 0, 0,
                         0, 0, 0, 0) + nb
        cd = len(lh) + len(comp)
        return lh + comp + ch + struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, 1, 1, len(ch), cd, 0)
    H['zip_bomb_claim.pt'] = deflated_zip('h/data.pkl', bomb, 0xfffffff0, 0)
    H['zip_bomb_overflow.pt'] = deflated_zip('h/data.pkl', bomb, 1000, 0)
    H['zip_bomb_under.pt'] = deflated_zip('h/data.pkl', bomb, (1 << 20) + 5, zlib.crc32(b'\0' * (1 << 20)))
    # legacy
    leg = open(path('sd_legacy.pt'), 'rb').read()
    H['legacy_truncated.pt'] = leg[:-3]
    i = leg.find(b'little_endian')
    k = leg.find(b'\x88', i)
    assert 0 < k - i < 20
    H['legacy_big_endian.pt'] = leg[:k] + b'\x89' + leg[k + 1:]
    # a wrong element count for the first storage: it follows the five pickles
    f = io.BytesIO(leg)
    for _ in range(5):
        Recording(f).load()
    cnt = f.tell()
    bad = bytearray(leg)
    bad[cnt:cnt + 8] = struct.pack('<q', 2**40)
    H['legacy_count_huge.pt'] = bytes(bad)
    # safetensors
    def st(header, data=b''):
        h = header.encode() if isinstance(header, str) else header
        return struct.pack('<Q', len(h)) + h + data
    H['st_header_huge.safetensors'] = struct.pack('<Q', 2**64 - 1) + b'{}'
    H['st_header_past_end.safetensors'] = struct.pack('<Q', 1000) + b'{}'
    H['st_offsets_past_end.safetensors'] = st('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', b'\0' * 4)
    H['st_hole.safetensors'] = st('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', b'\0' * 8)
    H['st_overlap.safetensors'] = st('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                                     '"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', b'\0' * 8)
    H['st_trailing_data.safetensors'] = st('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', b'\0' * 8)
    H['st_negative_shape.safetensors'] = st('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', b'\0' * 4)
    H['st_overflow_shape.safetensors'] = st('{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],'
                                            '"data_offsets":[0,0]}}')
    H['st_size_mismatch.safetensors'] = st('{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,4]}}', b'\0' * 4)
    H['st_bad_dtype.safetensors'] = st('{"a":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}}', b'\0')
    H['st_dup_key.safetensors'] = st('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
                                     '"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', b'\0\0')
    H['st_deep_json.safetensors'] = st('{"a":' + '[' * 2000 + ']' * 2000 + '}')
    H['st_bad_metadata.safetensors'] = st('{"__metadata__":{"a":1}}')
    H['st_offsets_three.safetensors'] = st('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}', b'\0')
    H['st_trailing_garbage.safetensors'] = st('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}x', b'\0')
    H['st_nul_in_name.safetensors'] = st('{"a\\u0000b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b'\0')
    H['unknown_format.bin'] = b'hello, this is not a checkpoint'
    for name, data in H.items():
        write(os.path.join('hostile', name), data)


def fuzz_corpus():
    """Seed corpora for tests/fuzz (small files in every format)."""
    corpus = os.path.join(HERE, '..', 'fuzz', 'corpus')

    def seed(target, name, data):
        d = os.path.join(corpus, target)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), 'wb') as f:
            f.write(data)

    def fx(name):
        with open(path(name), 'rb') as f:
            return f.read()

    for n in ['sd.pt', 'sd_deflate.pt', 'sd_zip64.pt', 'dtypes_v3.pt', 'sd_descriptor.pt']:
        seed('zip', n, fx(n))
    for n in ['sd.pt', 'sd_deflate.pt', 'sd_zip64.pt', 'views.pt', 'dtypes.pt', 'dtypes_v3.pt', 'full.pt', 'variants.pt',
              'sd_p4.pt']:
        seed('torch_zip', n, fx(n))
    for n in ['sd_legacy.pt', 'views_legacy.pt', 'dtypes_legacy.pt', 'sd_p4_legacy.pt']:
        seed('legacy', n, fx(n))
    for n in ['sd.safetensors', 'mixed.safetensors']:
        seed('safetensors', n, fx(n))
    for n in ['sd.pt', 'sd_legacy.pt', 'mixed.safetensors']:
        seed('any', n, fx(n))
    for n in ['scalars_p0.pkl', 'scalars_p2.pkl', 'strings_p0.pkl', 'strings_p4.pkl', 'containers_p1.pkl',
              'containers_p5.pkl', 'objects_p2.pkl', 'bytes_p3.pkl', 'hand_py2.pkl', 'hand_inst.pkl',
              'hand_misc.pkl', 'hand_p45.pkl', 'hand_persid.pkl']:
        seed('pickle', n, fx(os.path.join('pickle', n)))
    for n in ['views.pt', 'dtypes_v3.pt', 'full.pt']:
        with zipfile.ZipFile(path(n)) as z:
            seed('pickle', n.replace('.pt', '_data.pkl'), z.read(n.replace('.pt', '') + '/data.pkl'))
    seed('json', 'config.json', b'{"_class_name": "UNet2DModel", "block_out_channels": [128, 256, 256, 256], '
         b'"down_block_types": ["DownBlock2D", "AttnDownBlock2D"], "norm_eps": 1e-06, "attention_head_dim": null, '
         b'"flip_sin_to_cos": false, "sample_size": 32}')
    seed('json', 'scheduler.json', b'{"beta_start": 0.0001, "beta_end": 0.02, "trained_betas": [1e-4, 2.5E-2, -0.0],'
         b' "clip_sample": true, "variance_type": "fixed_large", "num_train_timesteps": 1000}')
    seed('json', 'strings.json', '["\\u00e9\\ud83d\\ude00", "tab\\t", {"nested": {"a": [[], {}]}}, -12345678901234567890]'.encode())
    st = fx('mixed.safetensors')
    n = struct.unpack('<Q', st[:8])[0]
    seed('json', 'st_header.json', st[8:8 + n])


if __name__ == '__main__':
    sys.setrecursionlimit(10000)
    pickle_cases()
    hand_pickles()
    tensors_main()
    hostile()
    fuzz_corpus()
    total = 0
    for root, _, files in os.walk(OUT):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    print('fixtures written to %s (%d bytes)' % (os.path.normpath(OUT), total))
