/// Every region where SES v2 exists (PRODUCT.md); a connection is per account and one of these.
pub const SES_REGIONS: [&str; 21] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "sa-east-1",
];

pub fn is_ses_region(region: &str) -> bool {
    SES_REGIONS.contains(&region)
}
