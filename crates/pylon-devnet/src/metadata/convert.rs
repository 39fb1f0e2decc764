//! Metadata downgrades: V16 → V15 → V14 over frame-metadata's own types.
//!
//! A runtime at spec 424 serves V16 and, for clients that ask for older versions, V15 and V14
//! built from the same description (FRAME derives all of them from one source). Nothing in
//! frame-metadata or subxt-metadata converts downwards, so this does. What the older versions
//! cannot carry is dropped: per-API `version`, deprecation info, pallet view functions and
//! associated types, extrinsic versions other than 4. What they need and V16 lacks is found in
//! (or added to) the type registry: the `Runtime` type (V15/V14 `ty`), the tuple of the
//! transaction extensions (V15 `extra_ty`) and the `UncheckedExtrinsic` type (V14 `ty`).

use frame_metadata::{v14, v15, v16};
use scale_info::form::PortableForm;
use scale_info::{
    Field, Path, PortableRegistry, PortableType, Type, TypeDef, TypeDefComposite, TypeDefTuple,
    TypeParameter,
};

/// The signed extrinsic format V15/V14 describe.
const SIGNED_EXTRINSIC_VERSION: u8 = 4;
/// The transaction-extension version V4 extrinsics carry implicitly.
const V4_EXTENSION_VERSION: u8 = 0;

/// Id of the first type whose path is `segments`.
fn find_by_path(types: &PortableRegistry, segments: &[&str]) -> Option<u32> {
    types
        .types
        .iter()
        .find(|t| {
            t.ty.path
                .segments
                .iter()
                .map(String::as_str)
                .eq(segments.iter().copied())
        })
        .map(|t| t.id)
}

/// Value of type parameter `name` of `ty`.
fn type_param(ty: &Type<PortableForm>, name: &str) -> Option<u32> {
    ty.type_params
        .iter()
        .find(|p| p.name == name)
        .and_then(|p| p.ty.map(|t| t.id))
}

/// The runtime's extrinsic type: the outermost `UncheckedExtrinsic` of the registry whose
/// address, call and signature parameters are the extrinsic's (subtensor wraps
/// `sp_runtime`'s in Frontier's `fp_self_contained` one, as FRAME's own V14 names).
fn unchecked_extrinsic(
    types: &PortableRegistry,
    address: u32,
    call: u32,
    signature: u32,
) -> Option<&PortableType> {
    let candidates: Vec<&PortableType> = types
        .types
        .iter()
        .filter(|t| {
            t.ty.path.segments.last().map(String::as_str) == Some("UncheckedExtrinsic")
                && type_param(&t.ty, "Address") == Some(address)
                && type_param(&t.ty, "Call") == Some(call)
                && type_param(&t.ty, "Signature") == Some(signature)
        })
        .collect();
    let wrapped = |id: u32| {
        candidates.iter().any(|c| match &c.ty.type_def {
            TypeDef::Composite(comp) => comp.fields.iter().any(|f| f.ty.id == id),
            _ => false,
        })
    };
    candidates.iter().find(|c| !wrapped(c.id)).copied()
}

/// The extension type parameter of an `UncheckedExtrinsic` (`Extra`, later `Extension`).
fn extension_param(ty: &Type<PortableForm>) -> Option<u32> {
    type_param(ty, "Extra").or_else(|| type_param(ty, "Extension"))
}

/// Append `ty` to the registry and return its id (ids are positions, as in every registry).
fn add_type(types: &mut PortableRegistry, ty: Type<PortableForm>) -> u32 {
    let id = types.types.len() as u32;
    types.types.push(PortableType { id, ty });
    id
}

/// The runtime's name space (`node_subtensor_runtime` for subtensor), from the outer call enum.
fn runtime_namespace(types: &PortableRegistry, call_enum: u32) -> Vec<String> {
    types
        .resolve(call_enum)
        .map(|t| t.path.segments.clone())
        .and_then(|mut segments| segments.pop().map(|_| segments))
        .unwrap_or_default()
}

/// The `Runtime` struct type V15 and V14 name in `ty` (found, or added as the unit struct it is).
fn runtime_type(types: &mut PortableRegistry, call_enum: u32) -> u32 {
    let mut segments = runtime_namespace(types, call_enum);
    segments.push("Runtime".to_owned());
    let as_str: Vec<&str> = segments.iter().map(String::as_str).collect();
    if let Some(id) = find_by_path(types, &as_str) {
        return id;
    }
    add_type(
        types,
        Type {
            path: Path { segments },
            type_params: vec![],
            type_def: TypeDef::Composite(TypeDefComposite { fields: vec![] }),
            docs: vec![],
        },
    )
}

/// The tuple of the extensions' explicit types (V15 `extra_ty`), found or added.
fn extensions_tuple(types: &mut PortableRegistry, fields: Vec<u32>) -> u32 {
    let existing = types.types.iter().find(|t| match &t.ty.type_def {
        TypeDef::Tuple(tuple) => tuple.fields.iter().map(|f| f.id).eq(fields.iter().copied()),
        _ => false,
    });
    if let Some(t) = existing {
        return t.id;
    }
    add_type(
        types,
        Type {
            path: Path::default(),
            type_params: vec![],
            type_def: TypeDef::Tuple(TypeDefTuple {
                fields: fields.into_iter().map(Into::into).collect(),
            }),
            docs: vec![],
        },
    )
}

fn v16_storage(
    storage: v16::PalletStorageMetadata<PortableForm>,
) -> v14::PalletStorageMetadata<PortableForm> {
    v14::PalletStorageMetadata {
        prefix: storage.prefix,
        entries: storage
            .entries
            .into_iter()
            .map(|e| v14::StorageEntryMetadata {
                name: e.name,
                modifier: e.modifier,
                ty: e.ty,
                default: e.default,
                docs: e.docs,
            })
            .collect(),
    }
}

fn v16_pallet(p: v16::PalletMetadata<PortableForm>) -> v15::PalletMetadata<PortableForm> {
    v15::PalletMetadata {
        name: p.name,
        storage: p.storage.map(v16_storage),
        calls: p.calls.map(|c| v14::PalletCallMetadata { ty: c.ty }),
        event: p.event.map(|e| v14::PalletEventMetadata { ty: e.ty }),
        constants: p
            .constants
            .into_iter()
            .map(|c| v14::PalletConstantMetadata {
                name: c.name,
                ty: c.ty,
                value: c.value,
                docs: c.docs,
            })
            .collect(),
        error: p.error.map(|e| v14::PalletErrorMetadata { ty: e.ty }),
        index: p.index,
        docs: p.docs,
    }
}

fn v16_api(api: v16::RuntimeApiMetadata<PortableForm>) -> v15::RuntimeApiMetadata<PortableForm> {
    v15::RuntimeApiMetadata {
        name: api.name,
        methods: api
            .methods
            .into_iter()
            .map(|m| v15::RuntimeApiMethodMetadata {
                name: m.name,
                inputs: m.inputs,
                output: m.output,
                docs: m.docs,
            })
            .collect(),
        docs: api.docs,
    }
}

/// V16 → V15: the same registry (plus `Runtime` and the extension tuple when missing), the
/// version-4 transaction extensions as signed extensions.
pub fn v16_to_v15(md: v16::RuntimeMetadataV16) -> v15::RuntimeMetadataV15 {
    let mut types = md.types;
    let xt = md.extrinsic;
    // The map is keyed by transaction-extension version; signed V4 extrinsics use version 0.
    let extension_indexes: Vec<u32> = xt
        .transaction_extensions_by_version
        .get(&V4_EXTENSION_VERSION)
        .or_else(|| xt.transaction_extensions_by_version.values().next())
        .map(|ix| ix.iter().map(|c| c.0).collect())
        .unwrap_or_else(|| (0..xt.transaction_extensions.len() as u32).collect());
    let signed_extensions: Vec<v15::SignedExtensionMetadata<PortableForm>> = extension_indexes
        .iter()
        .filter_map(|i| xt.transaction_extensions.get(*i as usize))
        .map(|e| v15::SignedExtensionMetadata {
            identifier: e.identifier.clone(),
            ty: e.ty,
            additional_signed: e.implicit,
        })
        .collect();
    // The runtime's own extension type (`TxExtension`, possibly nested tuples) as the extrinsic
    // type names it; a flat tuple of the extensions when the registry has no extrinsic type.
    let own_extra =
        unchecked_extrinsic(&types, xt.address_ty.id, xt.call_ty.id, xt.signature_ty.id)
            .and_then(|t| extension_param(&t.ty));
    let extra_ty = own_extra.unwrap_or_else(|| {
        extensions_tuple(
            &mut types,
            signed_extensions.iter().map(|e| e.ty.id).collect(),
        )
    });
    let runtime_ty = runtime_type(&mut types, md.outer_enums.call_enum_ty.id);
    let version = if xt.versions.contains(&SIGNED_EXTRINSIC_VERSION) {
        SIGNED_EXTRINSIC_VERSION
    } else {
        xt.versions
            .iter()
            .copied()
            .max()
            .unwrap_or(SIGNED_EXTRINSIC_VERSION)
    };
    v15::RuntimeMetadataV15 {
        types,
        pallets: md.pallets.into_iter().map(v16_pallet).collect(),
        extrinsic: v15::ExtrinsicMetadata {
            version,
            address_ty: xt.address_ty,
            call_ty: xt.call_ty,
            signature_ty: xt.signature_ty,
            extra_ty: extra_ty.into(),
            signed_extensions,
        },
        ty: runtime_ty.into(),
        apis: md.apis.into_iter().map(v16_api).collect(),
        outer_enums: md.outer_enums,
        custom: md.custom,
    }
}

/// The `UncheckedExtrinsic<Address, Call, Signature, Extra>` type V14 describes extrinsics by:
/// the registry's own when it has one with those parameters, else added (an opaque byte vector
/// with the four parameters named, as FRAME registers it).
fn unchecked_extrinsic_type(
    types: &mut PortableRegistry,
    xt: &v15::ExtrinsicMetadata<PortableForm>,
) -> u32 {
    let params = [
        ("Address", xt.address_ty.id),
        ("Call", xt.call_ty.id),
        ("Signature", xt.signature_ty.id),
        ("Extra", xt.extra_ty.id),
    ];
    if let Some(t) = unchecked_extrinsic(types, xt.address_ty.id, xt.call_ty.id, xt.signature_ty.id)
    {
        return t.id;
    }
    let u8_ty = types
        .types
        .iter()
        .find(|t| {
            matches!(
                t.ty.type_def,
                TypeDef::Primitive(scale_info::TypeDefPrimitive::U8)
            )
        })
        .map(|t| t.id);
    let u8_ty = u8_ty.unwrap_or_else(|| {
        add_type(
            types,
            Type {
                path: Path::default(),
                type_params: vec![],
                type_def: TypeDef::Primitive(scale_info::TypeDefPrimitive::U8),
                docs: vec![],
            },
        )
    });
    let bytes_ty = types
        .types
        .iter()
        .find(|t| matches!(&t.ty.type_def, TypeDef::Sequence(s) if s.type_param.id == u8_ty))
        .map(|t| t.id)
        .unwrap_or_else(|| {
            add_type(
                types,
                Type {
                    path: Path::default(),
                    type_params: vec![],
                    type_def: TypeDef::Sequence(scale_info::TypeDefSequence {
                        type_param: u8_ty.into(),
                    }),
                    docs: vec![],
                },
            )
        });
    add_type(
        types,
        Type {
            path: Path {
                segments: [
                    "sp_runtime",
                    "generic",
                    "unchecked_extrinsic",
                    "UncheckedExtrinsic",
                ]
                .map(str::to_owned)
                .to_vec(),
            },
            type_params: params
                .iter()
                .map(|(name, id)| TypeParameter {
                    name: (*name).to_owned(),
                    ty: Some((*id).into()),
                })
                .collect(),
            type_def: TypeDef::Composite(TypeDefComposite {
                fields: vec![Field {
                    name: None,
                    ty: bytes_ty.into(),
                    type_name: Some("Vec<u8>".to_owned()),
                    docs: vec![],
                }],
            }),
            docs: vec![],
        },
    )
}

/// V15 → V14: drops runtime APIs, outer enums, custom values and pallet docs.
pub fn v15_to_v14(md: v15::RuntimeMetadataV15) -> v14::RuntimeMetadataV14 {
    let mut types = md.types;
    let xt_ty = unchecked_extrinsic_type(&mut types, &md.extrinsic);
    v14::RuntimeMetadataV14 {
        types,
        pallets: md
            .pallets
            .into_iter()
            .map(|p| v14::PalletMetadata {
                name: p.name,
                storage: p.storage,
                calls: p.calls,
                event: p.event,
                constants: p.constants,
                error: p.error,
                index: p.index,
            })
            .collect(),
        extrinsic: v14::ExtrinsicMetadata {
            ty: xt_ty.into(),
            version: md.extrinsic.version,
            signed_extensions: md
                .extrinsic
                .signed_extensions
                .into_iter()
                .map(|e| v14::SignedExtensionMetadata {
                    identifier: e.identifier,
                    ty: e.ty,
                    additional_signed: e.additional_signed,
                })
                .collect(),
        },
        ty: md.ty,
    }
}
